import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row the store rewrites to find out whether the database takes writes again after a failure
 * (readiness), without storing anything a client would see.
 */
@Entity({ name: 'store_probe' })
export class StoreProbeEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  /** ISO 8601 UTC time of the last successful probe. */
  @Column({ name: 'checked_at', type: 'varchar', length: 24 })
  checkedAt!: string;
}

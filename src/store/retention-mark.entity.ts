import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far the retention job has deleted: per room (`room:<name>`) and for direct messages
 * (`direct`), the highest id it deleted. A resume from below it gets a `gap`.
 */
@Entity({ name: 'retention_marks' })
export class RetentionMarkEntity {
  @PrimaryColumn({ type: 'varchar', length: 70 })
  scope!: string;

  @Column({ name: 'purged_through_id', type: 'integer' })
  purgedThroughId!: number;

  /** ISO 8601 UTC time of the run that deleted it. */
  @Column({ name: 'purged_at', type: 'varchar', length: 24 })
  purgedAt!: string;
}

import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The audit log: who did what to whom, and when. Only ever appended to through the API; erasure of
 * a user (data-subject request) anonymises their rows rather than deleting them.
 */
@Entity({ name: 'audit_log' })
@Index('idx_audit_log_actor', ['actor', 'id'])
@Index('idx_audit_log_action', ['action', 'id'])
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** ISO 8601 UTC. */
  @Column({ type: 'varchar', length: 24 })
  at!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  actor!: string | null;

  @Column({ type: 'varchar', length: 32 })
  action!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  target!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  room!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  address!: string | null;
}

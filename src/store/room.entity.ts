import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RoomVisibility = 'public' | 'private';

/**
 * Every room that has messages (kept by the write path, which upserts its newest message id) or
 * was created (create_room: visibility, owner and creation time, no message yet).
 */
@Entity({ name: 'rooms' })
export class RoomEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  /** NULL until the room's first message. */
  @Column({ name: 'last_message_id', type: 'integer', nullable: true })
  lastMessageId!: number | null;

  /** 'public' (anyone joins) or 'private' (members only). */
  @Column({ type: 'varchar', length: 7, default: 'public' })
  visibility!: RoomVisibility;

  /** The user id that created it; NULL for a room that came into being by its first message. */
  @Column({ name: 'owner_id', type: 'varchar', length: 255, nullable: true })
  ownerId!: string | null;

  /** ISO 8601 UTC; NULL for a room that came into being by its first message. */
  @Column({ name: 'created_at', type: 'varchar', length: 24, nullable: true })
  createdAt!: string | null;

  /** Slow mode: one message per user per this many seconds; 0 is off. Set by the owner or an admin. */
  @Column({ name: 'slow_mode_seconds', type: 'integer', default: 0 })
  slowModeSeconds!: number;

  /** This room's retention in days, set by an admin: overrides RETENTION_DAYS; NULL follows it. */
  @Column({ name: 'retention_days', type: 'integer', nullable: true })
  retentionDays!: number | null;
}

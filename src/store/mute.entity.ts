import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A mute (issue 13): the user's messages in the room are refused until `expires_at`. The user is a
 * user id in jwt mode, a nickname in anonymous mode.
 */
@Entity({ name: 'mutes' })
export class MuteEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  room!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  target!: string;

  /** ISO 8601 UTC; NULL: until unmuted. */
  @Column({ name: 'expires_at', type: 'varchar', length: 24, nullable: true })
  expiresAt!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  actor!: string | null;

  /** ISO 8601 UTC. */
  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

export type BanKind = 'user' | 'address';

/**
 * A ban (issue 13): handshakes of the user (jwt mode, by user id) or from the address are refused
 * until `expires_at`. Stored so it survives a restart; the server keeps the active ones in memory.
 */
@Entity({ name: 'bans' })
export class BanEntity {
  @PrimaryColumn({ type: 'varchar', length: 7 })
  kind!: BanKind;

  /** A user id, or an address in canonical form (protocol/address.ts). */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  target!: string;

  /** ISO 8601 UTC; NULL: until unbanned. */
  @Column({ name: 'expires_at', type: 'varchar', length: 24, nullable: true })
  expiresAt!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** Who banned (as the audit log names actors). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  actor!: string | null;

  /** ISO 8601 UTC. */
  @Column({ name: 'created_at', type: 'varchar', length: 24 })
  createdAt!: string;
}

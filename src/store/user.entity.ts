import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every user who signed in once (jwt mode), so that others can address them while they are away. */
@Entity({ name: 'users' })
@Index('idx_users_nickname_key', ['nicknameKey'])
export class UserEntity {
  /** The token's `sub`. */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  id!: string;

  /** The display name from the last sign-in; not unique. */
  @Column({ type: 'varchar', length: 64 })
  nickname!: string;

  /** nicknameKey(nickname): what a `user` given as a nickname is looked up by. Text: NFKC may lengthen it. */
  @Column({ name: 'nickname_key', type: 'text' })
  nicknameKey!: string;

  /** The roles from the last sign-in, as a JSON array of strings. */
  @Column({ type: 'text' })
  roles!: string;

  @Column({ name: 'first_seen', type: 'varchar', length: 24 })
  firstSeen!: string;

  /** Last sign-in or disconnect. */
  @Column({ name: 'last_seen', type: 'varchar', length: 24 })
  lastSeen!: string;

  /** The highest DM id delivered to the user: DMs to them above it wait for their next connection. */
  @Column({ name: 'dm_delivered_id', type: 'integer', default: 0 })
  dmDeliveredId!: number;
}

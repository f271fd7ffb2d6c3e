import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A user's membership of a room (jwt mode): stored, so it survives disconnects and restarts. */
@Entity({ name: 'room_members' })
@Index('idx_room_members_user_id', ['userId'])
export class RoomMemberEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  room!: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 255 })
  userId!: string;

  /** ISO 8601 UTC. */
  @Column({ name: 'joined_at', type: 'varchar', length: 24 })
  joinedAt!: string;
}

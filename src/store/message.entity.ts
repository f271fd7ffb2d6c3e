import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'messages' })
@Index('idx_messages_room_id', ['room', 'id'])
@Index('uq_messages_room_client_msg_id', ['room', 'clientMsgId'], { unique: true })
export class MessageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  room!: string;

  /** The sender's nickname when the message was sent. */
  @Column({ type: 'varchar', length: 32 })
  nickname!: string;

  @Column({ type: 'text' })
  body!: string;

  /** ISO 8601 UTC text, exactly what clients receive as `sentAt`. */
  @Column({ name: 'sent_at', type: 'varchar', length: 24 })
  sentAt!: string;

  @Column({ name: 'client_msg_id', type: 'varchar', length: 64, nullable: true })
  clientMsgId!: string | null;
}

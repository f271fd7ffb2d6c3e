import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A private message between two users; never part of a room's history. */
@Entity({ name: 'direct_messages' })
@Index('idx_direct_messages_recipient_id', ['recipient', 'id'])
@Index('idx_direct_messages_sender_id', ['sender', 'id'])
@Index('uq_direct_messages_sender_client_msg_id', ['sender', 'clientMsgId'], { unique: true })
export class DirectMessageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 32 })
  sender!: string;

  @Column({ type: 'varchar', length: 32 })
  recipient!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'sent_at', type: 'varchar', length: 24 })
  sentAt!: string;

  @Column({ name: 'client_msg_id', type: 'varchar', length: 64, nullable: true })
  clientMsgId!: string | null;
}

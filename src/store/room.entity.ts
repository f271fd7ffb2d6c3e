import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Every room that has messages, with its newest message id (kept by the write path). */
@Entity({ name: 'rooms' })
export class RoomEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ name: 'last_message_id', type: 'integer' })
  lastMessageId!: number;
}

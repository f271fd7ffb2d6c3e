import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

// Room messages and direct messages share this table, and so one id sequence: a client's `since`
// covers both. A direct message is a row whose room is NULL. The partial indexes below only hold
// DMs (room IS NULL), so the room write path does not maintain them.

/** The DMs of a sender that carries a user id (jwt): one row per (user_id, client_msg_id). */
export const DM_USER_CLIENT_MSG_ID = 'room IS NULL AND user_id IS NOT NULL';
/** The DMs of an anonymous sender: one row per (nickname, client_msg_id). */
export const DM_NICKNAME_CLIENT_MSG_ID = 'room IS NULL AND user_id IS NULL';
/** Room messages of anonymous senders: one row per (room, client_msg_id), as before sign-in existed. */
export const ANONYMOUS_ROOM_MESSAGE = 'user_id IS NULL';
/** Room messages of signed-in senders: one row per (room, user_id, client_msg_id), so users never share ids. */
export const SIGNED_IN_ROOM_MESSAGE = 'room IS NOT NULL AND user_id IS NOT NULL';
/** Edited or deleted rows only: what a resume replays as changes (message_edited, message_deleted). */
export const CHANGED_ONLY = 'changed_at_id IS NOT NULL';
/** Every DM: "DMs to or from user X above id N" are range scans of these indexes. */
export const DM_ONLY = 'room IS NULL';

@Entity({ name: 'messages' })
@Index('idx_messages_room_id', ['room', 'id'])
@Index('uq_messages_room_client_msg_id', ['room', 'clientMsgId'], { unique: true, where: ANONYMOUS_ROOM_MESSAGE })
@Index('uq_messages_room_user_client_msg_id', ['room', 'userId', 'clientMsgId'], { unique: true, where: SIGNED_IN_ROOM_MESSAGE })
@Index('uq_messages_dm_user_client_msg_id', ['userId', 'clientMsgId'], { unique: true, where: DM_USER_CLIENT_MSG_ID })
@Index('uq_messages_dm_nickname_client_msg_id', ['nickname', 'clientMsgId'], { unique: true, where: DM_NICKNAME_CLIENT_MSG_ID })
@Index('idx_messages_dm_recipient_id', ['recipientId', 'id'], { where: DM_ONLY })
@Index('idx_messages_dm_user_id', ['userId', 'id'], { where: DM_ONLY })
@Index('idx_messages_changed_at_id', ['changedAtId'], { where: CHANGED_ONLY })
export class MessageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** NULL for a direct message. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  room!: string | null;

  /** The sender's nickname when the message was sent (64: jwt mode's display names). */
  @Column({ type: 'varchar', length: 64 })
  nickname!: string;

  @Column({ type: 'text' })
  body!: string;

  /** ISO 8601 UTC text, exactly what clients receive as `sentAt`. */
  @Column({ name: 'sent_at', type: 'varchar', length: 24 })
  sentAt!: string;

  @Column({ name: 'client_msg_id', type: 'varchar', length: 64, nullable: true })
  clientMsgId!: string | null;

  /** The sender's user id (the token's `sub`); NULL in anonymous mode. */
  @Column({ name: 'user_id', type: 'varchar', length: 255, nullable: true })
  userId!: string | null;

  /** A DM's recipient nickname when it was sent; NULL for a room message. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  recipient!: string | null;

  /** A DM's recipient user id (jwt); NULL for a room message and in anonymous mode. */
  @Column({ name: 'recipient_id', type: 'varchar', length: 255, nullable: true })
  recipientId!: string | null;

  /** ISO 8601 UTC of the last edit; NULL when never edited. */
  @Column({ name: 'edited_at', type: 'varchar', length: 24, nullable: true })
  editedAt!: string | null;

  /**
   * ISO 8601 UTC of its deletion (by its author, a moderator or an erasure); NULL while it stands.
   * A deleted message is a tombstone: its body is '' (the text is gone from the store, not hidden),
   * its id and room stay so that paging, resume and unread counts keep their places.
   */
  @Column({ name: 'deleted_at', type: 'varchar', length: 24, nullable: true })
  deletedAt!: string | null;

  /**
   * The newest message id when it was last edited or deleted: a client resuming from `since` has
   * missed the changes with changed_at_id >= since to messages it already had (id <= since).
   */
  @Column({ name: 'changed_at_id', type: 'integer', nullable: true })
  changedAtId!: number | null;
}

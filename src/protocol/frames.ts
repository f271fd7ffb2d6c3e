// The wire protocol in one place: what clients may send, what the server sends back.
// docs/protocol.md and docs/asyncapi.yaml describe exactly these shapes.
import type { ErrorCode } from './error-code';

export const DEFAULT_ROOM = 'general';

/** Most names a `welcome` or `presence` frame lists; the rest are paged over `who` and REST. */
export const MAX_LISTED_USERS = 1000;

/** Most names a `presence_diff` lists in `joins`, and in `leaves`: a diff costs each member O(1) bytes, whatever the churn. */
export const MAX_DIFF_NAMES = 100;

/** Inbound event names the gateway subscribes to; anything else is UNKNOWN_EVENT. */
export const INBOUND_EVENTS = [
  'message', 'nick', 'history', 'join', 'leave', 'who', 'typing', 'dm', 'resume', 'auth', 'create_room', 'invite', 'remove',
  // Edits and deletions (issue 13)
  'edit', 'delete',
  // Moderation (issue 13): admins only, and slow_mode for a room's owner too.
  'kick', 'ban', 'unban', 'mute', 'unmute', 'slow_mode',
] as const;
export type InboundEvent = (typeof INBOUND_EVENTS)[number];

/** Who may join a room: anyone (public), or only the members its owner or an admin invited (private). */
export const ROOM_VISIBILITIES = ['public', 'private'] as const;
export type RoomVisibility = (typeof ROOM_VISIBILITIES)[number];

// In AUTH_MODE=jwt, frames that name a user also carry its user id (the token's `sub`), and list
// frames a parallel array of ids; in anonymous mode those fields are absent, so anonymous frames
// are byte for byte what they were before identities existed.

export interface MessageFrame {
  type: 'message';
  id: number;
  room: string;
  nickname: string;
  /** jwt mode: the sender's user id. */
  userId?: string;
  message: string;
  sentAt: string;
  clientMsgId?: string;
  /** Set once the message was edited: when it last was (ISO 8601). */
  editedAt?: string;
}

/**
 * A deleted room message in a history page, a REST page or a replay: its id and room keep their
 * places, nothing else of it is left (the text is gone from the store).
 */
export interface MessageTombstone {
  type: 'message';
  id: number;
  room: string;
  deleted: true;
}

/** A deleted direct message (jwt mode) in a DM page or a replay; fromId and toId say whose conversation. */
export interface DirectTombstone {
  type: 'direct';
  id: number;
  deleted: true;
  fromId?: string;
  toId?: string;
}

/**
 * A message was edited (its author, `edit`); to the room, or for a direct message (jwt mode) to
 * both users' connections, without `room`. Idempotent: a resume may send one the client had.
 */
export interface MessageEditedFrame {
  type: 'message_edited';
  id: number;
  room?: string;
  message: string;
  editedAt: string;
}

/** A message was deleted (its author, an admin or the room's owner); like message_edited, idempotent. */
export interface MessageDeletedFrame {
  type: 'message_deleted';
  id: number;
  room?: string;
}

/** A reconnect token's form: 32 random bytes in base64url, without padding. */
export const RECONNECT_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The close sent to a connection whose reconnect token a new connection presented. */
export const REPLACED_CLOSE = { code: 4002, reason: 'Replaced by a new connection' } as const;

/** Cluster mode: Redis is back after an outage; reconnect and resume to get what other nodes sent meanwhile. */
export const CLUSTER_RESYNC_CLOSE = { code: 1012, reason: 'cluster resync' } as const;

/** The close sent at the `exp` of a connection's token (AUTH_MODE=jwt) unless an `auth` event renewed it. */
export const TOKEN_EXPIRED_CLOSE = { code: 4001, reason: 'token expired' } as const;

export interface WelcomeFrame {
  type: 'welcome';
  nickname: string;
  message: string;
  /** Online users in connection order, at most MAX_LISTED_USERS; `usersTotal` counts them all. */
  users: readonly string[];
  usersTotal: number;
  room: string;
  rooms: string[];
  /**
   * This connection's secret: `?token=` on the next connection's URL gets its nickname back (once).
   * Anonymous mode only: in jwt mode the nickname comes from the token.
   */
  reconnectToken?: string;
  /** jwt mode: this connection's user id and roles, and the ids of `users`, index for index. */
  userId?: string;
  roles?: readonly string[];
  userIds?: readonly string[];
}

export interface HistoryFrame {
  type: 'history';
  room: string;
  messages: Array<MessageFrame | MessageTombstone>;
  hasMore: boolean;
}

export interface NotificationFrame {
  type: 'notification';
  event: 'join' | 'leave';
  room: string;
  nickname: string;
  message: string;
  /** jwt mode: the user id of `nickname`. */
  userId?: string;
}

export interface NickUpdateFrame {
  type: 'nick_update';
  nickname: string;
  previous: string;
  message: string;
}

/** A room's members in join order: at most `limit` of them from `offset`; `usersTotal` counts them all. */
export interface PresenceFrame {
  type: 'presence';
  room: string;
  users: string[];
  usersTotal: number;
  offset: number;
  /** jwt mode: the ids of `users`, index for index. */
  userIds?: string[];
}

/**
 * In a room over the batch threshold: who joined and who left since the last such frame, at most
 * MAX_DIFF_NAMES of each (the earliest); `joinsTotal` and `leavesTotal` count them all.
 */
export interface PresenceDiffFrame {
  type: 'presence_diff';
  room: string;
  joins: string[];
  leaves: string[];
  joinsTotal: number;
  leavesTotal: number;
  /** jwt mode: the ids of `joins` and of `leaves`, index for index. */
  joinIds?: string[];
  leaveIds?: string[];
  usersTotal: number;
}

export interface TypingFrame {
  type: 'typing';
  room: string;
  nickname: string;
  /** jwt mode: the typist's user id. */
  userId?: string;
}

export interface DirectFrame {
  type: 'direct';
  id: number;
  from: string;
  to: string;
  message: string;
  sentAt: string;
  clientMsgId?: string;
  /** jwt mode: the sender's and the recipient's user ids. */
  fromId?: string;
  toId?: string;
  /** Set once the direct message was edited. */
  editedAt?: string;
}

/** Sent to the sender only, once its message is durably committed (or was already, for a resend). */
export interface AckFrame {
  type: 'ack';
  clientMsgId: string;
  id: number;
  /** Set for a room message. */
  room?: string;
  /** Set for a direct message. */
  to?: string;
  /** jwt mode, a direct message: the recipient's user id. */
  toId?: string;
}

/**
 * Messages of `room` with afterId < id < beforeId were not replayed; page them over REST. In jwt
 * mode a gap in the replayed direct messages has no `room` but `direct: true`.
 */
export interface GapFrame {
  type: 'gap';
  room?: string;
  direct?: true;
  afterId: number;
  beforeId: number;
}

/** The replay is complete; `lastId` is the newest replayed id (or `since` if there was nothing). */
export interface ResumedFrame {
  type: 'resumed';
  lastId: number;
}

/** To every connection of a user made a member of a private room (jwt mode): `by` invited them. */
export interface InvitedFrame {
  type: 'invited';
  room: string;
  by: string;
  byId: string;
}

/** To every connection of a user taken out of a private room by its owner or an admin (jwt mode). */
export interface RemovedFrame {
  type: 'removed';
  room: string;
  by: string;
  byId: string;
}

/** The reply to `invite` and `remove`: whether `user` is now a member of `room`. */
export interface MembershipFrame {
  type: 'membership';
  room: string;
  user: string;
  userId: string;
  member: boolean;
}

/** The answer to an `auth` event whose token was accepted: the connection now lasts until `expiresAt`. */
export interface AuthOkFrame {
  type: 'auth_ok';
  /** The new token's `exp`, ISO 8601. */
  expiresAt: string;
}

export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  event?: string;
  clientMsgId?: string;
  /** MUTED: when the mute ends, ISO 8601; null for a mute without an end. */
  until?: string | null;
  /** RATE_LIMITED: milliseconds until a frame will be taken again; SLOW_MODE: until the next message in that room may be sent. */
  retryAfterMs?: number;
}

// ---- moderation (issue 13)

/** What an admin does to a user or an address; the `action` of a `moderation` frame. */
export const MODERATION_ACTIONS = ['kick', 'ban', 'unban', 'mute', 'unmute'] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** The close sent to every connection of a kicked user: it may connect again at once (a ban is what keeps it out). */
export const KICKED_CLOSE = { code: 4003, reason: 'kicked' } as const;

/** The close sent to the connections of a user or address when it is banned: its next handshakes get 403 until the ban ends. */
export const BANNED_CLOSE = { code: 4003, reason: 'banned' } as const;

/** Slow mode's longest interval: one message per user per hour. */
export const MAX_SLOW_MODE_SECONDS = 3600;

/**
 * The reply to `kick`, `ban`, `unban`, `mute` and `unmute` (the body of the REST routes, without
 * `type`): whom it was done to, until when, and what changed.
 */
export interface ModerationFrame {
  type: 'moderation';
  action: ModerationAction;
  /** The user: a nickname (anonymous mode) or the user's display name (jwt mode, with `userId`). */
  user?: string;
  userId?: string;
  /** An address ban, or (anonymous mode) the address a banned nickname was connected from. */
  address?: string;
  /** `mute` and `unmute`. */
  room?: string;
  /** `ban` and `mute`: when it ends, ISO 8601; null: until it is lifted. */
  until?: string | null;
  reason?: string;
  /** `kick` and `ban`: connections closed with 4003. */
  closed?: number;
  /** `unban` and `unmute`: false when there was nothing to lift. */
  lifted?: boolean;
}

/** To a room (and to whoever set it, if not in the room) when its slow mode changes: 0 is off. */
export interface RoomSettingsFrame {
  type: 'room_settings';
  room: string;
  slowModeSeconds: number;
  /** Who changed it: a nickname, with the user id in jwt mode. */
  by: string;
  byId?: string;
}

export type ServerFrame =
  | MessageFrame
  | WelcomeFrame
  | HistoryFrame
  | NotificationFrame
  | NickUpdateFrame
  | PresenceFrame
  | PresenceDiffFrame
  | TypingFrame
  | DirectFrame
  | AckFrame
  | GapFrame
  | ResumedFrame
  | InvitedFrame
  | RemovedFrame
  | MembershipFrame
  | AuthOkFrame
  | ErrorFrame
  // Edits and deletions (issue 13)
  | MessageTombstone
  | DirectTombstone
  | MessageEditedFrame
  | MessageDeletedFrame
  | ModerationFrame
  | RoomSettingsFrame;
export type ServerFrameType = ServerFrame['type'];

/** Every frame `type` the server sends, for code that needs them at runtime (the AsyncAPI test). */
export const SERVER_FRAME_TYPES = [
  'welcome',
  'history',
  'notification',
  'message',
  'nick_update',
  'presence',
  'presence_diff',
  'typing',
  'direct',
  'ack',
  'gap',
  'resumed',
  'invited',
  'removed',
  'membership',
  'auth_ok',
  'error',
  'message_edited',
  'message_deleted',
  'moderation',
  'room_settings',
] as const satisfies readonly ServerFrameType[];
// Fails to compile, naming the missing type, when a ServerFrame member is not listed above.
type UnlistedFrameType = Exclude<ServerFrameType, (typeof SERVER_FRAME_TYPES)[number]>;
const _everyFrameTypeListed: [UnlistedFrameType] extends [never] ? true : UnlistedFrameType = true;

/** Every frame leaves the server through here: serialized once, sent as a UTF-8 text frame. */
export function encodeFrame(frame: ServerFrame): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

/** A stored room message as the store returns it (a row, not a frame). */
export interface MessageRecord {
  id: number;
  room: string;
  nickname: string;
  body: string;
  sentAt: string;
  clientMsgId: string | null;
  /** The sender's user id (jwt mode); null in anonymous mode. */
  userId: string | null;
  /** When it was last edited; absent or null when never. */
  editedAt?: string | null;
  /** Set on a tombstone (body ''): messageFrame() then shows only its id and room. */
  deletedAt?: string | null;
}

/** A stored direct message as the store returns it. */
export interface DirectMessageRecord {
  id: number;
  /** The sender's and recipient's nicknames when it was sent. */
  sender: string;
  recipient: string;
  body: string;
  sentAt: string;
  clientMsgId: string | null;
  /** The sender's and recipient's user ids (jwt mode); null in anonymous mode. */
  senderId: string | null;
  recipientId: string | null;
  editedAt?: string | null;
  deletedAt?: string | null;
}

/** A row as its frame; a deleted one (deletedAt: the only thing that decides it) as a tombstone. */
export function messageFrame(row: MessageRecord): MessageFrame | MessageTombstone {
  if (row.deletedAt) return { type: 'message', id: row.id, room: row.room, deleted: true };
  return liveMessageFrame(row);
}

/** A row that is not deleted (one just stored) as its `message` frame. */
export function liveMessageFrame(row: MessageRecord): MessageFrame {
  const frame: MessageFrame = { type: 'message', id: row.id, room: row.room, nickname: row.nickname, message: row.body, sentAt: row.sentAt };
  if (row.clientMsgId !== null) frame.clientMsgId = row.clientMsgId;
  if (row.userId != null) frame.userId = row.userId;
  if (row.editedAt) frame.editedAt = row.editedAt;
  return frame;
}

export function directFrame(row: DirectMessageRecord): DirectFrame | DirectTombstone {
  if (row.deletedAt) {
    const tombstone: DirectTombstone = { type: 'direct', id: row.id, deleted: true };
    if (row.senderId != null) tombstone.fromId = row.senderId;
    if (row.recipientId != null) tombstone.toId = row.recipientId;
    return tombstone;
  }
  return liveDirectFrame(row);
}

/** A direct message that is not deleted as its `direct` frame. */
export function liveDirectFrame(row: DirectMessageRecord): DirectFrame {
  const frame: DirectFrame = { type: 'direct', id: row.id, from: row.sender, to: row.recipient, message: row.body, sentAt: row.sentAt };
  if (row.clientMsgId !== null) frame.clientMsgId = row.clientMsgId;
  if (row.senderId != null) frame.fromId = row.senderId;
  if (row.recipientId != null) frame.toId = row.recipientId;
  if (row.editedAt) frame.editedAt = row.editedAt;
  return frame;
}

export function historyFrame(room: string, messages: readonly MessageRecord[], hasMore: boolean): HistoryFrame {
  return { type: 'history', room, messages: messages.map(messageFrame), hasMore };
}

export function notification(event: 'join' | 'leave', room: string, nickname: string, userId?: string): NotificationFrame {
  const frame: NotificationFrame = { type: 'notification', event, room, nickname, message: `${nickname} ${event === 'join' ? 'joined' : 'left'}` };
  if (userId !== undefined) frame.userId = userId;
  return frame;
}

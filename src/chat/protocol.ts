// The wire protocol in one place: what clients may send, what the server sends back.
// docs/protocol.md and docs/asyncapi.yaml describe exactly these shapes.

export const DEFAULT_ROOM = 'general';

export enum ErrorCode {
  BAD_JSON = 'BAD_JSON',
  BAD_FRAME = 'BAD_FRAME',
  UNKNOWN_EVENT = 'UNKNOWN_EVENT',
  VALIDATION = 'VALIDATION',
  NICK_TAKEN = 'NICK_TAKEN',
  NOT_IN_ROOM = 'NOT_IN_ROOM',
  NO_SUCH_USER = 'NO_SUCH_USER',
  UNAVAILABLE = 'UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

/** Inbound event names the gateway subscribes to; anything else is UNKNOWN_EVENT. */
export const INBOUND_EVENTS = ['message', 'nick', 'history', 'join', 'leave', 'who', 'typing', 'dm', 'resume'] as const;
export type InboundEvent = (typeof INBOUND_EVENTS)[number];

export interface MessageFrame {
  type: 'message';
  id: number;
  room: string;
  nickname: string;
  message: string;
  sentAt: string;
  clientMsgId?: string;
}

export interface WelcomeFrame {
  type: 'welcome';
  nickname: string;
  message: string;
  users: readonly string[];
  room: string;
  rooms: string[];
}

export interface HistoryFrame {
  type: 'history';
  room: string;
  messages: MessageFrame[];
  hasMore: boolean;
}

export interface NotificationFrame {
  type: 'notification';
  event: 'join' | 'leave';
  room: string;
  nickname: string;
  message: string;
}

export interface NickUpdateFrame {
  type: 'nick_update';
  nickname: string;
  previous: string;
  message: string;
}

export interface PresenceFrame {
  type: 'presence';
  room: string;
  users: string[];
}

export interface TypingFrame {
  type: 'typing';
  room: string;
  nickname: string;
}

export interface DirectFrame {
  type: 'direct';
  id: number;
  from: string;
  to: string;
  message: string;
  sentAt: string;
  clientMsgId?: string;
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
}

/** Messages of `room` with afterId < id < beforeId were not replayed; page them over REST. */
export interface GapFrame {
  type: 'gap';
  room: string;
  afterId: number;
  beforeId: number;
}

/** The replay is complete; `lastId` is the newest replayed id (or `since` if there was nothing). */
export interface ResumedFrame {
  type: 'resumed';
  lastId: number;
}

export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  event?: string;
  clientMsgId?: string;
}

export type ServerFrame =
  | MessageFrame
  | WelcomeFrame
  | HistoryFrame
  | NotificationFrame
  | NickUpdateFrame
  | PresenceFrame
  | TypingFrame
  | DirectFrame
  | AckFrame
  | GapFrame
  | ResumedFrame
  | ErrorFrame;
export type ServerFrameType = ServerFrame['type'];

/** Every frame `type` the server sends, for code that needs them at runtime (the AsyncAPI test). */
export const SERVER_FRAME_TYPES = [
  'welcome',
  'history',
  'notification',
  'message',
  'nick_update',
  'presence',
  'typing',
  'direct',
  'ack',
  'gap',
  'resumed',
  'error',
] as const satisfies readonly ServerFrameType[];
// Fails to compile, naming the missing type, when a ServerFrame member is not listed above.
type UnlistedFrameType = Exclude<ServerFrameType, (typeof SERVER_FRAME_TYPES)[number]>;
const _everyFrameTypeListed: [UnlistedFrameType] extends [never] ? true : UnlistedFrameType = true;

/** Every frame leaves the server through here: serialized once, sent as a UTF-8 text frame. */
export function encodeFrame(frame: ServerFrame): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

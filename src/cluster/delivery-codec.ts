import type { Audience, Delivery } from '../hub/broker';

/**
 * A Delivery on the Redis channel, binary so that the frame's bytes travel as they are (encoded
 * once by the sender's hub, never re-encoded per node or recipient):
 *
 *   u8 version (1) · u8 audience kind · f64 messageId · f64 except · str origin · str exceptUser
 *   · audience (room: str; users/userIds: u16 count, then str each; everyone: nothing) · frame bytes
 *
 * `str` is a u16 byte length and UTF-8 bytes. f64 keeps every id a JavaScript number can hold.
 */
const VERSION = 1;
const KINDS = ['room', 'users', 'userIds', 'everyone'] as const;

/** What travels besides the Delivery: the publishing node, whose session ids `except` means. */
export interface Envelope {
  delivery: Delivery;
  origin: string;
}

export function encodeDelivery({ audience, data, messageId, except, exceptUser }: Delivery, origin: string): Buffer {
  const strings = [origin, exceptUser ?? '', ...audienceStrings(audience)].map((s) => Buffer.from(s, 'utf8'));
  const counted = audience.kind === 'users' || audience.kind === 'userIds';
  let size = 2 + 8 + 8 + (counted ? 2 : 0) + data.length;
  for (const bytes of strings) size += 2 + bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(VERSION, 0);
  at = out.writeUInt8(KINDS.indexOf(audience.kind), at);
  at = out.writeDoubleBE(messageId, at);
  at = out.writeDoubleBE(except, at);
  const [originBytes, exceptUserBytes, ...rest] = strings;
  at = writeString(out, originBytes, at);
  at = writeString(out, exceptUserBytes, at);
  if (counted) at = out.writeUInt16BE(rest.length, at);
  for (const bytes of rest) at = writeString(out, bytes, at);
  data.copy(out, at);
  return out;
}

export function decodeDelivery(buffer: Buffer): Envelope {
  if (buffer.readUInt8(0) !== VERSION) throw new Error(`unknown delivery version ${buffer.readUInt8(0)}`);
  const kind = KINDS[buffer.readUInt8(1)];
  const messageId = buffer.readDoubleBE(2);
  const except = buffer.readDoubleBE(10);
  const cursor = { at: 18 };
  const origin = readString(buffer, cursor);
  const exceptUser = readString(buffer, cursor);
  let audience: Audience;
  if (kind === 'room') audience = { kind, room: readString(buffer, cursor) };
  else if (kind === 'everyone') audience = { kind };
  else {
    const count = buffer.readUInt16BE(cursor.at);
    cursor.at += 2;
    const names = Array.from({ length: count }, () => readString(buffer, cursor));
    audience = kind === 'users' ? { kind, nicknames: names } : { kind, userIds: names };
  }
  // A view, not a copy: the frame bytes are written to sockets as they are.
  const delivery: Delivery = { audience, data: buffer.subarray(cursor.at), messageId, except };
  if (exceptUser !== '') delivery.exceptUser = exceptUser;
  return { delivery, origin };
}

function audienceStrings(audience: Audience): readonly string[] {
  switch (audience.kind) {
    case 'room':
      return [audience.room];
    case 'users':
      return audience.nicknames;
    case 'userIds':
      return audience.userIds;
    case 'everyone':
      return [];
  }
}

function writeString(out: Buffer, bytes: Buffer, at: number): number {
  const next = out.writeUInt16BE(bytes.length, at);
  bytes.copy(out, next);
  return next + bytes.length;
}

function readString(buffer: Buffer, cursor: { at: number }): string {
  const length = buffer.readUInt16BE(cursor.at);
  const start = cursor.at + 2;
  cursor.at = start + length;
  return buffer.toString('utf8', start, start + length);
}

import type { RawData } from 'ws';
import { ErrorCode } from '../protocol/error-code';

export type ParsedFrame =
  | { ok: true; event: string; data: unknown }
  | { ok: false; code: ErrorCode; message: string; event?: string };

/**
 * Turns one WebSocket message into `{event, data}` or a protocol error.
 * A text frame that does not start with `{` is a chat message, like the classic
 * `ws.send("hello")` clients send.
 */
export function parseFrame(raw: RawData, isBinary: boolean): ParsedFrame {
  if (isBinary) {
    return { ok: false, code: ErrorCode.BAD_FRAME, message: 'Binary frames are not supported; send JSON text frames' };
  }
  const text = (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8');
  if (text[0] !== '{') {
    return { ok: true, event: 'message', data: { message: text } };
  }
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.BAD_JSON, message: 'Frame starts with "{" but is not valid JSON' };
  }
  const event = (frame as { event?: unknown }).event;
  if (typeof event !== 'string') {
    return { ok: false, code: ErrorCode.BAD_FRAME, message: 'Frame must be a JSON object with an "event" string' };
  }
  return { ok: true, event, data: (frame as { data?: unknown }).data };
}

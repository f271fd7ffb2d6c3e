import { ChatException } from './chat.exception';
import { defaultErrorMessage, ErrorCode } from './error-code';
import type { ErrorFrame } from './frames';

/** Maps anything a handler throws to the protocol's error frame; never leaks stacks or payloads. */
export function toErrorFrame(exception: unknown, event?: string, data?: unknown): ErrorFrame {
  const code = exception instanceof ChatException ? exception.code : ErrorCode.INTERNAL;
  const message = exception instanceof ChatException ? exception.message : defaultErrorMessage(code);
  const frame: ErrorFrame = { type: 'error', code, message };
  if (event !== undefined) frame.event = event;
  const clientMsgId = echoableClientMsgId(data);
  if (clientMsgId !== undefined) frame.clientMsgId = clientMsgId;
  return frame;
}

function echoableClientMsgId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as { clientMsgId?: unknown }).clientMsgId;
  return typeof id === 'string' && id.length > 0 && [...id].length <= 64 ? id : undefined;
}

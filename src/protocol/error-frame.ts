import { ChatException } from './chat.exception';
import { defaultErrorMessage, ErrorCode } from './error-code';
import type { ErrorFrame } from './frames';

/**
 * The one mapping from anything thrown to the protocol's error frame: a ChatException keeps its
 * code and message (the code's default text when it has none), anything else is INTERNAL with
 * the default text, so no stack, error text or payload reaches a client.
 */
export function toErrorFrame(exception: unknown, event?: string, data?: unknown): ErrorFrame {
  const code = exception instanceof ChatException ? exception.code : ErrorCode.INTERNAL;
  const message = (exception instanceof ChatException && exception.message) || defaultErrorMessage(code);
  const frame: ErrorFrame = { type: 'error', code, message };
  if (event !== undefined) frame.event = event;
  if (exception instanceof ChatException && exception.details) Object.assign(frame, exception.details);
  const clientMsgId = echoableClientMsgId(data);
  if (clientMsgId !== undefined) frame.clientMsgId = clientMsgId;
  return frame;
}

function echoableClientMsgId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as { clientMsgId?: unknown }).clientMsgId;
  return typeof id === 'string' && id.length > 0 && [...id].length <= 64 ? id : undefined;
}

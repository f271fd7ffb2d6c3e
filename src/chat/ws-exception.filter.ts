import { Catch, Injectable, type ArgumentsHost, type WsExceptionFilter } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { StoreUnavailableError } from '../messages/message-store.service';
import { ChatException } from './chat.exception';
import { ErrorReporter } from './error-reporter';
import { ErrorCode, type ErrorFrame } from './protocol';

/** Human-readable text for each code when the exception carries none fit to show. */
export function defaultErrorMessage(code: ErrorCode): string {
  switch (code) {
    case ErrorCode.BAD_JSON:
      return 'Frame is not valid JSON';
    case ErrorCode.BAD_FRAME:
      return 'Frame must be a JSON object with an "event" string';
    case ErrorCode.UNKNOWN_EVENT:
      return 'Unknown event';
    case ErrorCode.VALIDATION:
      return 'Invalid data';
    case ErrorCode.NICK_TAKEN:
      return 'Nickname is already taken';
    case ErrorCode.NOT_IN_ROOM:
      return 'You are not in that room; join it first';
    case ErrorCode.NO_SUCH_USER:
      return 'No user with that nickname is online';
    case ErrorCode.UNAVAILABLE:
      return 'The message store is unavailable; nothing was stored or sent, try again';
    case ErrorCode.INTERNAL:
      return 'Internal error';
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled error code ${String(value)}`);
}

/** Maps anything a handler throws to the protocol's error frame; never leaks stacks or payloads. */
export function toErrorFrame(exception: unknown, event?: string, data?: unknown): ErrorFrame {
  let code: ErrorCode;
  let message: string;
  if (exception instanceof ChatException) {
    code = exception.code;
    message = exception.message;
  } else if (exception instanceof StoreUnavailableError) {
    code = ErrorCode.UNAVAILABLE;
    message = defaultErrorMessage(code);
  } else {
    code = ErrorCode.INTERNAL;
    message = defaultErrorMessage(code);
  }
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

@Catch()
@Injectable()
export class WsProtocolExceptionFilter implements WsExceptionFilter {
  constructor(private readonly errors: ErrorReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    this.errors.send(ws.getClient<WebSocket>(), toErrorFrame(exception, ws.getPattern(), ws.getData()), exception);
  }
}

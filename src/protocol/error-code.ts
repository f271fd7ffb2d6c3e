/** Every error frame carries one of these; docs/protocol.md explains each. */
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
  FORBIDDEN = 'FORBIDDEN',
  ROOM_EXISTS = 'ROOM_EXISTS',
  UNAUTHORIZED = 'UNAUTHORIZED',
  // Edits and deletions (issue 13)
  NOT_FOUND = 'NOT_FOUND',
  /** The frame was over the connection's (jwt mode: the user's) rate limit and was not processed. */
  RATE_LIMITED = 'RATE_LIMITED',
  // Moderation (issue 13)
  MUTED = 'MUTED',
  SLOW_MODE = 'SLOW_MODE',
}

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
    case ErrorCode.FORBIDDEN:
      return 'You are not allowed to do that';
    case ErrorCode.ROOM_EXISTS:
      return 'A room with that name exists already';
    case ErrorCode.UNAUTHORIZED:
      return 'The token was not accepted';
    case ErrorCode.NOT_FOUND:
      return 'No such message';
    case ErrorCode.RATE_LIMITED:
      return 'Too many frames: this one and any more before retryAfterMs were not processed';
    case ErrorCode.MUTED:
      return 'You are muted in this room';
    case ErrorCode.SLOW_MODE:
      return 'This room is in slow mode; wait before sending again';
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled error code ${String(value)}`);
}

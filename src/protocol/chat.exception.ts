import { ErrorCode } from './error-code';
import type { ErrorFrame } from './frames';

/** Fields an error frame carries besides its code and message (MUTED's `until`, SLOW_MODE's `retryAfterMs`). */
export type ErrorDetails = Partial<Pick<ErrorFrame, 'until' | 'retryAfterMs'>>;

/** A failure the client is told about with an error frame carrying `code`. */
export class ChatException extends Error {
  /** Copied into the error frame as they are. */
  details?: ErrorDetails;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = ChatException.name;
  }
}

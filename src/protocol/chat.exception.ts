import { ErrorCode } from './error-code';

/** A failure the client is told about with an error frame carrying `code`. */
export class ChatException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = ChatException.name;
  }
}

import { ErrorCode } from './protocol';

/** A failure the client is told about with an error frame carrying `code`. */
export class ChatException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = ChatException.name;
  }
}

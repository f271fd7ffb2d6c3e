import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ChatException } from './chat.exception';
import { ErrorCode } from './error-code';

/**
 * Turns an event's `data` into a validated DTO instance, or throws VALIDATION naming the first
 * broken rule of each field. Synchronous on purpose: the socket pipe relies on it to keep one
 * client's frames in order. Undeclared properties are stripped (whitelist), as docs/protocol.md says.
 */
export function validatePayload<T extends object>(dtoClass: new () => T, value: unknown): T {
  const data = value ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ChatException(ErrorCode.VALIDATION, 'data must be an object');
  }
  const dto = plainToInstance(dtoClass, data);
  const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) {
    throw new ChatException(ErrorCode.VALIDATION, explain(errors));
  }
  return dto;
}

/** Each failed field's message, in declaration order, joined by "; ". */
function explain(errors: ValidationError[]): string {
  return errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
}

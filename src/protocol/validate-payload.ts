import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ChatException } from './chat.exception';
import { parseSendMessage, SendMessageDto } from './dto/send-message.dto';
import { ErrorCode } from './error-code';

/**
 * How deeply `data` and the objects and arrays in it may nest, `data` itself being level 1. The
 * protocol needs 2 (`resume`'s `rooms`); the limit is checked before class-transformer, which
 * copies every value recursively and would overflow the stack on a deep one.
 */
export const MAX_DATA_DEPTH = 8;

/** Hand-checked fast paths for the hottest events; each accepts only what the DTO's decorators accept. */
const FAST_PATHS = new Map<new () => object, (data: object) => object | undefined>([[SendMessageDto, parseSendMessage]]);

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
  if (nestedDeeperThan(data, MAX_DATA_DEPTH)) {
    throw new ChatException(ErrorCode.VALIDATION, `data must not be nested more than ${MAX_DATA_DEPTH} levels deep`);
  }
  const fast = FAST_PATHS.get(dtoClass)?.(data) as T | undefined;
  if (fast) return fast;
  const dto = plainToInstance(dtoClass, data);
  const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) {
    throw new ChatException(ErrorCode.VALIDATION, explain(errors));
  }
  return dto;
}

/** Whether `value` holds an object or array `levels` levels below it; stops at the first one, so its depth is bounded too. */
function nestedDeeperThan(value: object, levels: number): boolean {
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestedDeeperThan(item, levels - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestedDeeperThan(item, levels - 1)) return true;
  }
  return false;
}

/** Each failed field's message, in declaration order, joined by "; ". */
function explain(errors: ValidationError[]): string {
  return errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
}

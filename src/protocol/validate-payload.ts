import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ChatException } from './chat.exception';
import { fastValidatorFor } from './compiled-validator';
import { ErrorCode } from './error-code';

/**
 * Turns plain data into a validated DTO instance, or throws VALIDATION naming the first broken rule per field.
 * Valid frames take the DTO's compiled checker; everything else gets class-transformer + class-validator.
 */
export function validatePayload<T extends object>(dtoClass: new () => T, value: unknown): T {
  const data = value ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ChatException(ErrorCode.VALIDATION, 'data must be an object');
  }
  return fastValidatorFor(dtoClass)?.(data) ?? validateSlowly(dtoClass, data);
}

/** The reference path: what the compiled checker must agree with, and the source of every error message. */
export function validateSlowly<T extends object>(dtoClass: new () => T, data: object): T {
  const dto = plainToInstance(dtoClass, data);
  const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) {
    throw new ChatException(ErrorCode.VALIDATION, describe(errors));
  }
  return dto;
}

export function describe(errors: ValidationError[]): string {
  return errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
}

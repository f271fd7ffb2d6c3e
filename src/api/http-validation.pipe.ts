import { BadRequestException, Injectable, ValidationPipe, type ArgumentMetadata, type PipeTransform, type ValidationError } from '@nestjs/common';

/**
 * REST input validation: unknown parameters are rejected, and a 400 names each bad one:
 * `{"statusCode":400,"error":"Bad Request","message":"limit must not be greater than 200","parameters":["limit"]}`.
 */
@Injectable()
export class HttpValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      stopAtFirstError: true,
      transform: true,
      exceptionFactory: (errors: ValidationError[]) =>
        new BadRequestException({
          statusCode: 400,
          error: 'Bad Request',
          message: errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; '),
          parameters: errors.map((e) => e.property),
        }),
    });
  }
}

/**
 * HttpValidationPipe with a hand-written check of the common, valid input in front (for a hot
 * route): `parse` returns the DTO or undefined, and on undefined class-validator decides and
 * writes the 400, so the DTO's decorators stay the contract and the error responses are theirs.
 */
export class FastHttpValidationPipe<T> implements PipeTransform {
  private readonly full = new HttpValidationPipe();

  constructor(private readonly parse: (value: unknown) => T | undefined) {}

  transform(value: unknown, metadata: ArgumentMetadata): T | Promise<unknown> {
    return this.parse(value) ?? this.full.transform(value, metadata);
  }
}

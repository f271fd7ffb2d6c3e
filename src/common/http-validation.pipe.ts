import { BadRequestException, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';

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

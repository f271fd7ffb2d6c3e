import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { validatePayload } from '../protocol/validate-payload';

/**
 * Validates @MessageBody() payloads against their DTO, synchronously: every handler then
 * reaches its service after the same number of ticks, which keeps one client's frames in
 * the order they were sent. Unknown properties are stripped; failures become VALIDATION.
 */
@Injectable()
export class WsValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype;
    // Nest 12 reports @MessageBody() as 'body' and @ConnectedSocket() as 'custom'.
    if (metadata.type !== 'body' || !metatype || metatype === Object) {
      return value;
    }
    return validatePayload(metatype as new () => object, value);
  }
}

import { IsOptional } from 'class-validator';
import { IsChatText, IsClientMsgId, IsRoomName, isChatText, isClientMsgId, isRoomName } from './validators';

export class SendMessageDto {
  @IsChatText()
  message!: string;

  @IsOptional()
  @IsClientMsgId()
  clientMsgId?: string;

  /** Defaults to `general`. */
  @IsOptional()
  @IsRoomName()
  room?: string;
}

/**
 * The `message` event's fast path, in front of class-transformer + class-validator: the DTO they
 * would produce for a plainly valid payload (the decorators' own predicates, the same stripping),
 * undefined for anything else, which they then decide and explain. It only ever accepts, so the
 * decorators stay the contract and every VALIDATION text is theirs (send-message.dto.spec.ts
 * checks both paths against each other). Kept because the send path measured the library path at
 * more than a tenth of its CPU, garbage collection included (docs/benchmarks.md).
 */
export function parseSendMessage(data: object): SendMessageDto | undefined {
  if (Object.getPrototypeOf(data) !== Object.prototype) return undefined;
  const { message, clientMsgId, room } = data as Record<string, unknown>;
  let fields = 1;
  if (!isChatText(message)) return undefined;
  const dto = new SendMessageDto();
  dto.message = message;
  if (clientMsgId !== undefined) {
    if (!isClientMsgId(clientMsgId)) return undefined;
    dto.clientMsgId = clientMsgId;
    fields++;
  }
  if (room !== undefined) {
    if (!isRoomName(room)) return undefined;
    dto.room = room;
    fields++;
  }
  // Anything else (an undeclared property, `__proto__` as a key) goes the library's way.
  return Object.keys(data).length === fields ? dto : undefined;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsRoomName } from '../chat/dto/validators';
import { DEFAULT_ROOM } from '../chat/protocol';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Query strings carry text: turn canonical integers into numbers, leave the rest for @IsInt to reject. */
const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;

// Decorators apply bottom-up, so @IsInt (last) is checked first and is the one error reported.

/** Keyset paging over message ids, used by the `history` event and GET /api/messages. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Only messages with a smaller id', minimum: 1, type: Number })
  @IsOptional()
  @Transform(toInteger)
  @Min(1)
  @IsInt()
  before?: number;

  @ApiPropertyOptional({ description: 'Only messages with a larger id', minimum: 1, type: Number })
  @IsOptional()
  @Transform(toInteger)
  @Min(1)
  @IsInt()
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, type: Number })
  @IsOptional()
  @Transform(toInteger)
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  @IsInt()
  limit?: number;
}

export class ListMessagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ default: DEFAULT_ROOM, maxLength: 64 })
  @IsOptional()
  @IsRoomName()
  @Length(1, 64)
  @IsString()
  room?: string;
}

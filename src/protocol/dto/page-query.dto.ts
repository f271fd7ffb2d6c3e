import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min, length } from 'class-validator';
import { IsRoomName } from './validators';
import { DEFAULT_ROOM } from '../frames';
import { isValidRoomName } from '../room-name';

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

const POSITIVE_INTEGER = /^\d{1,16}$/;

/** The value `toInteger` and the decorators above accept as an integer from `min` to `max`, else undefined. */
function toIntegerIn(value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== 'string' || !POSITIVE_INTEGER.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * The fast path of GET /api/messages: for a plainly valid query, the DTO class-transformer and
 * class-validator would produce; for anything else undefined, and they decide (and explain a 400).
 * It accepts a subset of what the decorators accept (page-query.dto.spec.ts checks it against them).
 */
export function parseListMessagesQuery(query: unknown): ListMessagesQueryDto | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const dto = new ListMessagesQueryDto();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'room') {
      if (typeof value !== 'string' || !length(value, 1, 64) || !isValidRoomName(value)) return undefined;
      dto.room = value;
    } else if (key === 'limit' || key === 'before' || key === 'after') {
      const n = toIntegerIn(value, 1, key === 'limit' ? MAX_PAGE_SIZE : Number.POSITIVE_INFINITY);
      if (n === undefined) return undefined;
      dto[key] = n;
    } else {
      return undefined;
    }
  }
  return dto;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, length } from 'class-validator';
import { IsIntegerIn, IsRoomName } from './validators';
import { DEFAULT_ROOM } from '../frames';
import { isValidRoomName } from '../room-name';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** Keyset paging over message ids, used by the `history` event and GET /api/messages. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Only messages with a smaller id', minimum: 1, maximum: MAX_ID, type: Number })
  @IsOptional()
  @IsIntegerIn(1)
  before?: number;

  @ApiPropertyOptional({ description: 'Only messages with a larger id (0: from the first message)', minimum: 0, maximum: MAX_ID, type: Number })
  @IsOptional()
  @IsIntegerIn(0)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, type: Number })
  @IsOptional()
  @IsIntegerIn(1, MAX_PAGE_SIZE)
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

const DIGITS = /^\d{1,16}$/;
/** The bounds given to @IsIntegerIn above. */
const BOUNDS = { before: [1, MAX_ID], after: [0, MAX_ID], limit: [1, MAX_PAGE_SIZE] } as const;

/** The integer from `min` to `max` that @IsIntegerIn would accept, for plain digits; else undefined. */
function toIntegerIn(value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== 'string' || !DIGITS.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * The fast path of GET /api/messages: for a plainly valid query, the DTO class-transformer and
 * class-validator would produce; for anything else undefined, and they decide (and explain a 400).
 * It accepts a subset of what the decorators accept (src/api/http-validation.pipe.spec.ts checks it against them).
 */
export function parseListMessagesQuery(query: unknown): ListMessagesQueryDto | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const dto = new ListMessagesQueryDto();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'room') {
      if (typeof value !== 'string' || !length(value, 1, 64) || !isValidRoomName(value)) return undefined;
      dto.room = value;
    } else if (key === 'limit' || key === 'before' || key === 'after') {
      const [min, max] = BOUNDS[key];
      const n = toIntegerIn(value, min, max);
      if (n === undefined) return undefined;
      dto[key] = n;
    } else {
      return undefined;
    }
  }
  return dto;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_LISTED_USERS } from '../frames';

const toInteger = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value);

/** `?offset=&limit=` on the REST user lists: a page of users in connection (or join) order. */
export class UsersPageQueryDto {
  @ApiPropertyOptional({ minimum: 0, default: 0, type: Number })
  @IsOptional()
  @Transform(toInteger)
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  @IsInt()
  offset?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LISTED_USERS, default: MAX_LISTED_USERS, type: Number })
  @IsOptional()
  @Transform(toInteger)
  @Min(1)
  @Max(MAX_LISTED_USERS)
  @IsInt()
  limit?: number;
}

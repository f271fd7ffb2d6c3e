import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { MAX_LISTED_USERS } from '../frames';
import { IsIntegerIn } from './validators';

/** `?offset=&limit=` on the REST user lists: a page of users in connection (or join) order. */
export class UsersPageQueryDto {
  @ApiPropertyOptional({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, type: Number })
  @IsOptional()
  @IsIntegerIn(0)
  offset?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LISTED_USERS, default: MAX_LISTED_USERS, type: Number })
  @IsOptional()
  @IsIntegerIn(1, MAX_LISTED_USERS)
  limit?: number;
}

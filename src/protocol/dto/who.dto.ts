import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_LISTED_USERS } from '../frames';
import { RoomDto } from './room.dto';

/** `who`: `{room, offset?, limit?}`, a page of a room's members in join order. */
export class WhoDto extends RoomDto {
  @IsOptional()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  @IsInt()
  offset?: number;

  @IsOptional()
  @Min(1)
  @Max(MAX_LISTED_USERS)
  @IsInt()
  limit?: number;
}

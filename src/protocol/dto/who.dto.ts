import { IsOptional } from 'class-validator';
import { MAX_LISTED_USERS } from '../frames';
import { RoomDto } from './room.dto';
import { IsIntegerIn } from './validators';

/** `who`: `{room, offset?, limit?}`, a page of a room's members in join order. */
export class WhoDto extends RoomDto {
  @IsOptional()
  @IsIntegerIn(0)
  offset?: number;

  @IsOptional()
  @IsIntegerIn(1, MAX_LISTED_USERS)
  limit?: number;
}

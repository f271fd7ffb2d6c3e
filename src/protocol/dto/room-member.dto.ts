import { RoomDto } from './room.dto';
import { IsUserRef } from './validators';

/** `invite` and `remove`: `{room, user}`, the user by id or by nickname. */
export class RoomMemberDto extends RoomDto {
  @IsUserRef()
  user!: string;
}

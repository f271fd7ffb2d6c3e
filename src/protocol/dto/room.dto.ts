import { IsRoomName } from './validators';

/** `join`, `leave`, `who` and `typing`: `{room}`. */
export class RoomDto {
  @IsRoomName()
  room!: string;
}

import { IsIn } from 'class-validator';
import { ROOM_VISIBILITIES, type RoomVisibility } from '../frames';
import { RoomDto } from './room.dto';

/**
 * `create_room`: `{room, visibility}`. The visibility is required: a misspelt key would otherwise be
 * stripped and silently make a room meant to be private public.
 */
export class CreateRoomDto extends RoomDto {
  @IsIn(ROOM_VISIBILITIES, { message: `visibility must be one of: ${ROOM_VISIBILITIES.join(', ')}` })
  visibility!: RoomVisibility;
}

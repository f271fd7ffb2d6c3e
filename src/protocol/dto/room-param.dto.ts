import { ApiProperty } from '@nestjs/swagger';
import { IsRoomName } from './validators';

/** `:room` in a REST path. */
export class RoomParamDto {
  @ApiProperty({ example: 'general' })
  @IsRoomName()
  room!: string;
}

import { IsOptional } from 'class-validator';
import { IsChatText, IsClientMsgId, IsRoomName } from './validators';

export class SendMessageDto {
  @IsChatText()
  message!: string;

  @IsOptional()
  @IsClientMsgId()
  clientMsgId?: string;

  /** Defaults to `general`. */
  @IsOptional()
  @IsRoomName()
  room?: string;
}

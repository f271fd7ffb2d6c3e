import { IsOptional } from 'class-validator';
import { IsChatText, IsClientMsgId, IsNickname } from './validators';

export class DirectMessageDto {
  @IsNickname()
  to!: string;

  @IsChatText()
  message!: string;

  @IsOptional()
  @IsClientMsgId()
  clientMsgId?: string;
}

import { IsOptional } from 'class-validator';
import { IsChatText, IsClientMsgId } from './validators';

export class SendMessageDto {
  @IsChatText()
  message!: string;

  @IsOptional()
  @IsClientMsgId()
  clientMsgId?: string;
}

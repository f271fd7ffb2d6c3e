import { IsOptional } from 'class-validator';
import { IsChatText, IsClientMsgId, IsUserRef } from './validators';

/**
 * `dm` on a signed-in connection (AUTH_MODE=jwt): `to` names a user by id or by nickname, and
 * nicknames there are the identity provider's display names (spaces, dots, `@`), so the anonymous
 * nickname rule of DirectMessageDto does not apply. The gateway picks the DTO by the connection.
 */
export class SignedInDirectMessageDto {
  @IsUserRef()
  to!: string;

  @IsChatText()
  message!: string;

  @IsOptional()
  @IsClientMsgId()
  clientMsgId?: string;
}

import { IsNickname } from './validators';

export class SetNicknameDto {
  @IsNickname()
  nickname!: string;
}

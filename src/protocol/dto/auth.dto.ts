import { IsString, MaxLength, MinLength } from 'class-validator';

/** Longest token the `auth` event takes: far above any identity provider's, far below MAX_PAYLOAD_BYTES. */
export const MAX_TOKEN_CHARS = 16384;

/** `auth`: `{token}`, a new JWT for the same user (AUTH_MODE=jwt). */
export class AuthDto {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TOKEN_CHARS)
  token!: string;
}

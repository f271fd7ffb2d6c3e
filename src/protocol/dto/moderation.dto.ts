import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIP, IsOptional, IsString, Length, ValidateBy, type ValidationArguments } from 'class-validator';
import { MAX_SLOW_MODE_SECONDS } from '../frames';
import { IsIntegerIn, IsRoomName, IsUserRef, isUserRef, MAX_USER_ID_CHARS } from './validators';

/** The longest ban or mute with an end: a year. Without `seconds` it lasts until it is lifted. */
export const MAX_SANCTION_SECONDS = 365 * 24 * 3600;
export const MAX_REASON_CHARS = 500;

/**
 * `user` of `ban` and `unban`: a user reference when no `address` is given, absent when one is.
 * Exactly one of the two names the target.
 */
function IsUserUnlessAddress(): PropertyDecorator {
  return ValidateBy({
    name: 'isUserUnlessAddress',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        (args?.object as { address?: unknown }).address == null ? isUserRef(value) : value === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        (args?.object as { address?: unknown }).address == null
          ? `user must be a user id or nickname of 1 to ${MAX_USER_ID_CHARS} characters, or give address instead`
          : 'give user or address, not both',
    },
  });
}

class ReasonDto {
  @ApiPropertyOptional({ example: 'spam', maxLength: MAX_REASON_CHARS, description: 'Kept in the audit log' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_CHARS)
  reason?: string;
}

/** `kick`: every connection of the user is closed with 4003. */
export class KickDto extends ReasonDto {
  @ApiProperty({ example: 'alice', description: 'jwt mode: a user id or display name of an online user; anonymous mode: a nickname online now' })
  @IsUserRef()
  user!: string;
}

/** `unban`: a user or an address. */
export class UnbanDto {
  @ApiPropertyOptional({ example: 'alice', description: 'jwt mode: a user id or display name; anonymous mode: not used (bans are by address)' })
  @IsUserUnlessAddress()
  user?: string;

  @ApiPropertyOptional({ example: '203.0.113.9', description: 'An IPv4 or IPv6 address' })
  @IsOptional()
  @IsIP()
  address?: string;
}

/** `ban`: a user or an address, for `seconds` or until unbanned. */
export class BanDto extends UnbanDto {
  @ApiPropertyOptional({ example: 3600, minimum: 1, maximum: MAX_SANCTION_SECONDS, description: 'Omitted: until unbanned' })
  @IsOptional()
  @IsIntegerIn(1, MAX_SANCTION_SECONDS)
  seconds?: number;

  @ApiPropertyOptional({ example: 'spam', maxLength: MAX_REASON_CHARS, description: 'Kept in the audit log' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_CHARS)
  reason?: string;
}

/** `unmute`: the user in the room. */
export class UnmuteDto {
  @ApiProperty({ example: 'general' })
  @IsRoomName()
  room!: string;

  @ApiProperty({ example: 'alice', description: 'jwt mode: a user id or display name; anonymous mode: a nickname' })
  @IsUserRef()
  user!: string;
}

/** `mute`: the user's messages in the room are refused (MUTED) for `seconds` or until unmuted. */
export class MuteDto extends UnmuteDto {
  @ApiPropertyOptional({ example: 600, minimum: 1, maximum: MAX_SANCTION_SECONDS, description: 'Omitted: until unmuted' })
  @IsOptional()
  @IsIntegerIn(1, MAX_SANCTION_SECONDS)
  seconds?: number;

  @ApiPropertyOptional({ example: 'flooding', maxLength: MAX_REASON_CHARS, description: 'Kept in the audit log' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_REASON_CHARS)
  reason?: string;
}

/** `slow_mode`: one message per user per `seconds` in the room; 0 turns it off. */
export class SlowModeDto {
  @IsRoomName()
  room!: string;

  @IsIntegerIn(0, MAX_SLOW_MODE_SECONDS)
  seconds!: number;
}

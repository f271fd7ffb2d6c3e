import { Body, Catch, Controller, Get, HttpCode, HttpStatus, Post, Req, UseFilters, UsePipes, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentUser } from '../auth/current-user.decorator';
import { actorOfIdentity, ModerationService, type Actor, type ModerationResult } from '../chat/moderation.service';
import type { Sanction } from '../chat/sanctions';
import { Hub } from '../hub/hub';
import { ChatException } from '../protocol/chat.exception';
import { BanDto, KickDto, MuteDto, UnbanDto, UnmuteDto } from '../protocol/dto/moderation.dto';
import { ErrorCode } from '../protocol/error-code';
import { MODERATION_ACTIONS, type ModerationAction } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { HttpValidationPipe } from './http-validation.pipe';

class ModerationResultDto implements ModerationResult {
  @ApiProperty({ enum: MODERATION_ACTIONS }) action!: ModerationAction;
  @ApiPropertyOptional({ example: 'alice', description: 'The user: a nickname (anonymous mode) or display name (jwt mode)' }) user?: string;
  @ApiPropertyOptional({ example: 'sub-alice', description: 'jwt mode: the user id' }) userId?: string;
  @ApiPropertyOptional({ example: '203.0.113.9', description: 'An address ban; in anonymous mode, the address a banned nickname came from' })
  address?: string;
  @ApiPropertyOptional({ example: 'general' }) room?: string;
  @ApiPropertyOptional({ example: '2026-12-07T23:00:00.000Z', nullable: true, type: String, description: 'ban and mute: the end; null until lifted' })
  until?: string | null;
  @ApiPropertyOptional({ example: 2, description: 'kick and ban: connections closed with 4003' }) closed?: number;
  @ApiPropertyOptional({ example: true, description: 'unban and unmute: false when there was nothing to lift' }) lifted?: boolean;
}

class SanctionDto {
  @ApiProperty({ example: 'sub-alice', description: 'A user id (jwt mode), a nickname in lower case (anonymous mode, mutes) or an address' })
  target!: string;
  @ApiProperty({ example: '2026-12-07T23:00:00.000Z', nullable: true, type: String, description: 'The end; null until lifted' }) until!: string | null;
  @ApiProperty({ example: 'spam', nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ example: '@admin', nullable: true, type: String, description: 'Who did it, as the audit log names actors' }) actor!: string | null;
  @ApiProperty({ example: '2026-12-07T22:00:00.000Z' }) at!: string;
}

class BanEntryDto extends SanctionDto {
  @ApiProperty({ enum: ['user', 'address'] }) kind!: 'user' | 'address';
}

class MuteEntryDto extends SanctionDto {
  @ApiProperty({ example: 'general' }) room!: string;
}

class BansDto {
  @ApiProperty({ type: [BanEntryDto] }) bans!: BanEntryDto[];
}

class MutesDto {
  @ApiProperty({ type: [MuteEntryDto] }) mutes!: MuteEntryDto[];
}

/** The REST face of the moderation service's refusals: 404 for a user who is not there, 400, 503. */
@Catch(ChatException)
class ModerationErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ChatException, host: ArgumentsHost): void {
    const [statusCode, reason] = httpStatusOf(error.code);
    const body = { statusCode, error: reason, message: error.message };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, statusCode);
  }
}

/**
 * Moderation over REST (issue 13): the same actions as the `kick`, `ban`, `unban`, `mute` and
 * `unmute` events, and the bans and mutes in force. Admins only: every /api/admin route is checked
 * by the auth hook (401 without ADMIN_TOKEN or a token, 403 for a user without the role `admin`).
 */
@ApiTags('admin')
@Controller('api/admin')
@UsePipes(HttpValidationPipe)
@UseFilters(ModerationErrorFilter)
@ApiUnauthorizedResponse({ description: 'No token, or not ADMIN_TOKEN (anonymous mode) / not accepted (jwt mode)' })
@ApiForbiddenResponse({ description: 'A signed-in user without the role "admin"' })
export class ModerationController {
  constructor(
    private readonly moderation: ModerationService,
    private readonly hub: Hub,
  ) {}

  @Post('kick')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Close every connection of an online user with 4003 "kicked" (anonymous mode: the connection with that nickname)' })
  @ApiOkResponse({ type: ModerationResultDto })
  @ApiBadRequestResponse({ description: 'A bad body, or a name several online users share (use the user id)' })
  @ApiNotFoundResponse({ description: 'No such user online' })
  kick(@Body() dto: KickDto, @CurrentUser() admin: Identity | undefined, @Req() req: FastifyRequest): Promise<ModerationResult> {
    return this.moderation.kick(this.actor(admin, req), dto);
  }

  @Post('ban')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Ban a user (jwt mode) or an address for `seconds` or until unbanned: its handshakes get 403, its connections are closed with 4003 "banned"',
    description: 'In anonymous mode `user` names an online nickname, and the address its connection comes from is banned.',
  })
  @ApiOkResponse({ type: ModerationResultDto })
  @ApiBadRequestResponse({ description: 'A bad body: exactly one of user and address' })
  @ApiNotFoundResponse({ description: 'A user who never signed in (jwt mode), or a nickname not online (anonymous mode)' })
  @ApiServiceUnavailableResponse({ description: 'In force on this server, but not stored: send it again' })
  ban(@Body() dto: BanDto, @CurrentUser() admin: Identity | undefined, @Req() req: FastifyRequest): Promise<ModerationResult> {
    return this.moderation.ban(this.actor(admin, req), dto);
  }

  @Post('unban')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Lift the ban of a user (jwt mode) or an address; `lifted` is false when there was none' })
  @ApiOkResponse({ type: ModerationResultDto })
  @ApiBadRequestResponse({ description: 'A bad body; or a user in anonymous mode, where bans are by address' })
  @ApiNotFoundResponse({ description: 'A user who never signed in' })
  unban(@Body() dto: UnbanDto, @CurrentUser() admin: Identity | undefined, @Req() req: FastifyRequest): Promise<ModerationResult> {
    return this.moderation.unban(this.actor(admin, req), dto);
  }

  @Post('mute')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Mute a user in a room for `seconds` or until unmuted: its messages there get MUTED, with the end" })
  @ApiOkResponse({ type: ModerationResultDto })
  @ApiBadRequestResponse({ description: 'A bad body' })
  @ApiNotFoundResponse({ description: 'A user who never signed in (jwt mode)' })
  mute(@Body() dto: MuteDto, @CurrentUser() admin: Identity | undefined, @Req() req: FastifyRequest): Promise<ModerationResult> {
    return this.moderation.mute(this.actor(admin, req), dto);
  }

  @Post('unmute')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Lift a mute; `lifted` is false when there was none' })
  @ApiOkResponse({ type: ModerationResultDto })
  @ApiBadRequestResponse({ description: 'A bad body' })
  @ApiNotFoundResponse({ description: 'A user who never signed in (jwt mode)' })
  unmute(@Body() dto: UnmuteDto, @CurrentUser() admin: Identity | undefined, @Req() req: FastifyRequest): Promise<ModerationResult> {
    return this.moderation.unmute(this.actor(admin, req), dto);
  }

  @Get('bans')
  @ApiOperation({ summary: 'The bans in force, oldest first' })
  @ApiOkResponse({ type: BansDto })
  bans(): BansDto {
    return { bans: this.moderation.activeBans().map((ban) => ({ kind: ban.kind, ...sanction(ban) })) };
  }

  @Get('mutes')
  @ApiOperation({ summary: 'The mutes in force, oldest first' })
  @ApiOkResponse({ type: MutesDto })
  mutes(): MutesDto {
    return { mutes: this.moderation.activeMutes().map((mute) => ({ room: mute.room, ...sanction(mute) })) };
  }

  private actor(admin: Identity | undefined, req: FastifyRequest): Actor {
    return actorOfIdentity(admin, this.hub.isIdentified, req.ip);
  }
}

function sanction({ target, until, reason, actor, at }: Sanction): SanctionDto {
  return { target, until: until === null ? null : new Date(until).toISOString(), reason, actor, at: new Date(at).toISOString() };
}

function httpStatusOf(code: ErrorCode): [number, string] {
  switch (code) {
    case ErrorCode.NO_SUCH_USER:
      return [404, 'Not Found'];
    case ErrorCode.VALIDATION:
      return [400, 'Bad Request'];
    case ErrorCode.FORBIDDEN:
      return [403, 'Forbidden'];
    case ErrorCode.UNAVAILABLE:
      return [503, 'Service Unavailable'];
    default:
      return [500, 'Internal Server Error'];
  }
}

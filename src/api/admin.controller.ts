import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  Req,
  StreamableFile,
  UseFilters,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { CurrentUser } from '../auth/current-user.decorator';
import { DataSubjectService } from '../chat/data-subject.service';
import { RetentionService } from '../chat/retention.service';
import {
  AuditPageDto,
  AuditQueryDto,
  DEFAULT_AUDIT_PAGE,
  EraseParamDto,
  ErasureDto,
  ExportDto,
  ExportQueryDto,
  RetentionRunDto,
  RoomRetentionBodyDto,
  RoomRetentionDto,
} from '../protocol/dto/admin.dto';
import { RoomParamDto } from '../protocol/dto/room-param.dto';
import type { Identity } from '../protocol/identity';
import { AuditStore } from '../store/audit-store.service';
import { RetentionStore } from '../store/retention-store.service';
import { HttpValidationPipe } from './http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';

/**
 * The audit log, retention and data-subject requests, for admins (ADMIN_TOKEN or the role `admin`:
 * the HTTP auth hook answers 401/403 to anyone else before a handler runs). The audit log is
 * read-only here: no route edits or deletes it.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('api/admin')
@UsePipes(HttpValidationPipe)
@UseFilters(StoreUnavailableFilter)
@ApiUnauthorizedResponse({ description: 'No token, or one that is neither ADMIN_TOKEN nor accepted' })
@ApiForbiddenResponse({ description: 'A signed-in user without the role admin' })
export class AdminController {
  constructor(
    private readonly audit: AuditStore,
    private readonly retentionStore: RetentionStore,
    private readonly retention: RetentionService,
    private readonly subjects: DataSubjectService,
  ) {}

  @Get('audit')
  @ApiOperation({ summary: 'The audit log, newest first, filtered by actor and action; page with `before`' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ description: 'A bad parameter (limit above 1000, an unknown action…)' })
  async auditLog(@Query() { before, limit = DEFAULT_AUDIT_PAGE, actor, action }: AuditQueryDto): Promise<AuditPageDto> {
    const rows = await this.audit.page({ before, limit: limit + 1, actor, action });
    const entries = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return { entries, hasMore, nextBefore: hasMore ? entries[entries.length - 1].id : null };
  }

  @Put('rooms/:room/retention')
  @ApiOperation({ summary: "Set a room's own retention in days (null: follow RETENTION_DAYS); applied by the next retention run" })
  @ApiOkResponse({ type: RoomRetentionDto })
  @ApiBadRequestResponse({ description: 'days is not null or an integer from 1 to 36500' })
  @ApiNotFoundResponse({ description: 'No such room is stored' })
  async setRoomRetention(
    @Param() { room }: RoomParamDto,
    @Body() { days }: RoomRetentionBodyDto,
    @CurrentUser() caller: Identity | undefined,
    @Req() req: FastifyRequest,
  ): Promise<RoomRetentionDto> {
    if (!(await this.retentionStore.setRoomRetention(room, days))) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No room "${room}" is stored` });
    }
    const reason = days === null ? 'follows RETENTION_DAYS' : `${days} day(s)`;
    await this.audit.record({ actor: this.subjects.actorOf(admin(caller)), action: 'room_retention', room, reason, address: req.ip });
    return { room, days };
  }

  @Post('retention/run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Run retention now (it also runs every RETENTION_INTERVAL_MS); answers when it is done' })
  @ApiOkResponse({ type: RetentionRunDto })
  runRetention(@CurrentUser() caller: Identity | undefined): Promise<RetentionRunDto> {
    return this.retention.runNow(this.subjects.actorOf(admin(caller)));
  }

  @Get('export')
  @ApiOperation({ summary: 'Everything stored about a user, as JSON (streamed: rows are read a page at a time)' })
  @ApiProduces('application/json')
  @ApiOkResponse({ type: ExportDto })
  @ApiBadRequestResponse({ description: 'user is missing or not a user id or nickname' })
  async export(@Query() { user }: ExportQueryDto, @CurrentUser() caller: Identity | undefined, @Req() req: FastifyRequest): Promise<StreamableFile> {
    const pieces = await this.subjects.export(user, admin(caller), req.ip);
    return new StreamableFile(Readable.from(pieces), { type: 'application/json; charset=utf-8' });
  }

  @Delete('users/:user')
  @ApiOperation({
    summary:
      'Erase a user: their room messages and the DMs they sent and received become tombstones, their name on them and in the audit log a pseudonym; their connections are closed',
  })
  @ApiOkResponse({ type: ErasureDto })
  @ApiBadRequestResponse({ description: ':user is not a user id or nickname' })
  erase(@Param() { user }: EraseParamDto, @CurrentUser() caller: Identity | undefined, @Req() req: FastifyRequest): Promise<ErasureDto> {
    return this.subjects.erase(user, admin(caller), req.ip);
  }
}

/** The hook has set the admin's identity on every /api/admin route; without one nothing is done. */
function admin(caller: Identity | undefined): Identity {
  if (!caller) throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'This route needs an admin' });
  return caller;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { AUDIT_ACTIONS, type AuditAction } from '../audit';
import { IsIntegerIn, IsUserRef } from './validators';

/** Rows of one GET /api/admin/audit page when not told, and at most. */
export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 1000;
/** The longest retention a room can be given, in days (100 years). */
export const MAX_RETENTION_DAYS = 36_500;

/** `?before=&limit=&actor=&action=` on GET /api/admin/audit. */
export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Only rows with a smaller id: the previous page\'s `nextBefore`', minimum: 1, type: Number })
  @IsOptional()
  @IsIntegerIn(1)
  before?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: DEFAULT_AUDIT_PAGE, type: Number })
  @IsOptional()
  @IsIntegerIn(1, MAX_AUDIT_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only rows by this actor (a user id, a nickname in anonymous mode, `system`)', example: '@admin', maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  actor?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, description: 'Only rows of this action' })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;
}

/** One audit row, as GET /api/admin/audit and the export return it. */
export class AuditRecordDto {
  @ApiProperty({ example: 17 }) id!: number;
  @ApiProperty({ example: '2026-12-07T21:40:00.000Z' }) at!: string;
  @ApiProperty({ nullable: true, type: String, example: '@admin', description: 'A user id (jwt mode), a nickname (anonymous mode), `system` for the retention job; null when unknown' })
  actor!: string | null;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action!: AuditAction;
  @ApiProperty({ nullable: true, type: String, example: 'u-123', description: 'Whom or what it was done to; an `erased:…` pseudonym after an erasure' })
  target!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'general' }) room!: string | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '203.0.113.7' }) address!: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditRecordDto], description: 'Newest first' }) entries!: AuditRecordDto[];
  @ApiProperty({ description: 'Older rows match the same filters' }) hasMore!: boolean;
  @ApiProperty({ nullable: true, type: Number, example: 17, description: 'Pass as `before` (with the same filters) for the next page; null on the last one' })
  nextBefore!: number | null;
}

/** The body of PUT /api/admin/rooms/:room/retention. */
export class RoomRetentionBodyDto {
  @ApiProperty({
    nullable: true,
    type: Number,
    minimum: 1,
    maximum: MAX_RETENTION_DAYS,
    example: 30,
    description: "Delete this room's messages older than this many days; null: follow RETENTION_DAYS",
  })
  // Checked bottom up, and only the first failure is reported: an integer first, then its bounds.
  @ValidateIf((body: RoomRetentionBodyDto) => body.days !== null)
  @Min(1)
  @Max(MAX_RETENTION_DAYS)
  @IsInt()
  days!: number | null;
}

export class RoomRetentionDto {
  @ApiProperty({ example: 'general' }) room!: string;
  @ApiProperty({ nullable: true, type: Number, example: 30 }) days!: number | null;
}

export class RetentionRunDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { general: 120 }, description: 'Room messages deleted per room' })
  rooms!: Record<string, number>;
  @ApiProperty({ example: 120 }) roomMessages!: number;
  @ApiProperty({ example: 4 }) directMessages!: number;
  @ApiProperty({ example: 35 }) durationMs!: number;
}

/** `?user=` on GET /api/admin/export. */
export class ExportQueryDto {
  @ApiProperty({ example: 'u-123', description: 'A user id (jwt mode) or a nickname exactly as stored (anonymous mode)' })
  @IsUserRef()
  user!: string;
}

/** What GET /api/admin/export streams (a description for OpenAPI; rows are as stored). */
export class ExportDto {
  @ApiProperty({ example: 'u-123' }) user!: string;
  @ApiProperty({ enum: ['jwt', 'anonymous'] }) mode!: string;
  @ApiProperty({ example: '2026-12-07T21:40:00.000Z' }) exportedAt!: string;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'The users row (jwt mode): id, nickname, roles, firstSeen, lastSeen, dmDeliveredId' })
  account!: Record<string, unknown> | null;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Stored room memberships (jwt mode): room, joinedAt' })
  memberships!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Rooms they created (jwt mode)' }) ownedRooms!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Their room messages, oldest first' }) messages!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Direct messages they sent and received, oldest first' }) directMessages!: unknown[];
  @ApiProperty({ type: [AuditRecordDto], description: 'Audit rows they are the actor or the target of, oldest first' }) audit!: AuditRecordDto[];
}

/** `:user` in DELETE /api/admin/users/:user. */
export class EraseParamDto {
  @ApiProperty({ example: 'u-123', description: 'A user id (jwt mode) or a nickname exactly as stored (anonymous mode)' })
  @IsUserRef()
  user!: string;
}

export class ErasureDto {
  @ApiProperty({ example: 'erased:3f9a1c0b7d2e', description: 'What their rows and audit entries now carry instead of their id or nickname' })
  pseudonym!: string;
  @ApiProperty({ example: 12, description: 'Room messages turned into tombstones' }) messages!: number;
  @ApiProperty({ example: 3, description: 'Direct messages (sent and received) turned into tombstones' }) directMessages!: number;
  @ApiProperty({ example: 2, description: 'Audit fields (actor or target) replaced by the pseudonym' }) auditRows!: number;
  @ApiProperty({ example: 1, description: '1 when the users row (jwt mode) was deleted' }) account!: number;
  @ApiProperty({ example: 1, description: 'Their connections closed (4003 erased)' }) connections!: number;
}

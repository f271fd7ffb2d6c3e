import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { PageQueryDto } from './page-query.dto';
import { IsIntegerIn, IsUserRef } from './validators';

/** How many conversations GET /api/dm lists when not told, and at most. */
export const DEFAULT_CONVERSATIONS = 100;
export const MAX_CONVERSATIONS = 1000;

/** `:user` in GET /api/dm/:user: a user id or a nickname. */
export class UserParamDto {
  @ApiProperty({ example: 'bob', description: 'A user id (the token\'s `sub`) or a nickname' })
  @IsUserRef()
  user!: string;
}

/** `?limit=` on GET /api/dm. */
export class ConversationsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CONVERSATIONS, default: DEFAULT_CONVERSATIONS, type: Number })
  @IsOptional()
  @IsIntegerIn(1, MAX_CONVERSATIONS)
  limit?: number;
}

/** GET /api/dm/:user: keyset paging over ids, as for room history, and the other participant. */
export class DirectPageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'The conversation of `:user` with this user (id or nickname); default: you. Anyone but its two participants gets 403.',
    example: 'alice',
  })
  @IsOptional()
  @IsUserRef()
  with?: string;
}

/** OpenAPI description of a stored direct message; the same object the WebSocket `direct` frame carries. */
export class DirectDto {
  @ApiProperty({ enum: ['direct'] }) type!: 'direct';
  @ApiProperty({ example: 43 }) id!: number;
  // from, to, message and sentAt are absent from a tombstone (`deleted: true`).
  @ApiPropertyOptional({ example: 'Alice Smith', description: "The sender's nickname when it was sent" }) from?: string;
  @ApiPropertyOptional({ example: 'bob', description: "The recipient's nickname when it was sent" }) to?: string;
  @ApiPropertyOptional({ example: 'lunch?' }) message?: string;
  @ApiPropertyOptional({ example: '2026-11-21T23:44:19.123Z' }) sentAt?: string;
  @ApiPropertyOptional({ example: '2026-11-21T23:45:02.000Z', description: 'When it was last edited' }) editedAt?: string;
  @ApiPropertyOptional({ enum: [true], description: 'A deleted direct message (a tombstone): only id, fromId and toId are left' }) deleted?: true;
  @ApiPropertyOptional({ maxLength: 64 }) clientMsgId?: string;
  // Always present here (stored DMs read by user id carry both); optional in the type as in DirectFrame.
  @ApiProperty({ example: 'a1b2c3', description: "The sender's user id" }) fromId?: string;
  @ApiProperty({ example: 'd4e5f6', description: "The recipient's user id" }) toId?: string;
}

export class DirectPageDto {
  @ApiProperty({ type: [DirectDto], description: 'Oldest first, both directions' }) messages!: DirectDto[];
  @ApiProperty({ description: 'More direct messages exist beyond this page in the paging direction' }) hasMore!: boolean;
}

export class ConversationDto {
  @ApiProperty({ example: 'd4e5f6', description: "The other participant's user id (your own for notes to yourself)" }) userId!: string;
  @ApiProperty({ example: 'bob', description: 'Their nickname as they last signed in' }) nickname!: string;
  @ApiProperty({ example: 57, description: 'The id of the newest direct message between you' }) lastId!: number;
  @ApiProperty({ type: DirectDto }) lastMessage!: DirectDto;
}

export class ConversationsDto {
  @ApiProperty({ type: [ConversationDto], description: 'Newest conversation first' }) conversations!: ConversationDto[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of a stored message; the same object the WebSocket `message` frame carries. */
export class MessageDto {
  @ApiProperty({ enum: ['message'] }) type!: 'message';
  @ApiProperty({ example: 42 }) id!: number;
  @ApiProperty({ example: 'general' }) room!: string;
  // nickname, message and sentAt are absent from a tombstone (`deleted: true`).
  @ApiPropertyOptional({ example: 'Guest1' }) nickname?: string;
  @ApiPropertyOptional({ example: 'hi' }) message?: string;
  @ApiPropertyOptional({ example: '2026-11-21T23:44:19.123Z' }) sentAt?: string;
  @ApiPropertyOptional({ maxLength: 64 }) clientMsgId?: string;
  @ApiPropertyOptional({ example: '2026-11-21T23:45:02.000Z', description: 'When it was last edited' }) editedAt?: string;
  @ApiPropertyOptional({ enum: [true], description: 'A deleted message (a tombstone): only id and room are left' }) deleted?: true;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageDto], description: 'Oldest first' }) messages!: MessageDto[];
  @ApiProperty({ description: 'More messages exist beyond this page in the paging direction' }) hasMore!: boolean;
}

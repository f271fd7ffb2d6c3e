import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI description of a stored message; the same object the WebSocket `message` frame carries. */
export class MessageDto {
  @ApiProperty({ enum: ['message'] }) type!: 'message';
  @ApiProperty({ example: 42 }) id!: number;
  @ApiProperty({ example: 'general' }) room!: string;
  @ApiProperty({ example: 'Guest1' }) nickname!: string;
  @ApiProperty({ example: 'hi' }) message!: string;
  @ApiProperty({ example: '2026-11-21T23:44:19.123Z' }) sentAt!: string;
  @ApiPropertyOptional({ maxLength: 64 }) clientMsgId?: string;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageDto], description: 'Oldest first' }) messages!: MessageDto[];
  @ApiProperty({ description: 'More messages exist beyond this page in the paging direction' }) hasMore!: boolean;
}

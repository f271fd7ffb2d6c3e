import { Body, Controller, Delete, ForbiddenException, HttpCode, Ip, NotFoundException, Param, Patch, UseFilters, UsePipes } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { MessageEditsService } from '../chat/message-edits.service';
import { ChatException } from '../protocol/chat.exception';
import { EditMessageBodyDto, MessageIdParamDto } from '../protocol/dto/edit-message.dto';
import { ErrorCode } from '../protocol/error-code';
import type { MessageDeletedFrame, MessageEditedFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { HttpValidationPipe } from './http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';

class MessageEditedDto {
  @ApiProperty({ enum: ['message_edited'] }) type!: 'message_edited';
  @ApiProperty({ example: 42 }) id!: number;
  @ApiPropertyOptional({ example: 'general', description: 'Absent for a direct message' }) room?: string;
  @ApiProperty({ example: 'hello, fixed' }) message!: string;
  @ApiProperty({ example: '2026-11-21T23:45:02.000Z' }) editedAt!: string;
}

class MessageDeletedDto {
  @ApiProperty({ enum: ['message_deleted'] }) type!: 'message_deleted';
  @ApiProperty({ example: 42 }) id!: number;
  @ApiPropertyOptional({ example: 'general', description: 'Absent for a direct message' }) room?: string;
}

/**
 * PATCH and DELETE /api/messages/:id: the `edit` and `delete` events over REST, with the same
 * rules (MessageEditsService) and the same frames broadcast to connected clients; the answer is
 * that frame. Signed-in callers act as their user. Anonymous callers have nothing that is theirs
 * (authorship is a connection's lineage there), so only ADMIN_TOKEN's admin can delete.
 */
@ApiTags('messages')
@Controller('api/messages')
@UsePipes(HttpValidationPipe)
@UseFilters(StoreUnavailableFilter)
@ApiBadRequestResponse({ description: 'An id that is not a positive integer, or a message that breaks the rules of `message`' })
@ApiForbiddenResponse({ description: 'Not yours to edit (only its author edits), or to delete (its author, the room owner, an admin)' })
@ApiNotFoundResponse({ description: 'No such message, already deleted, or in a room or conversation you cannot read' })
export class MessageEditsController {
  constructor(private readonly edits: MessageEditsService) {}

  @Patch(':id')
  @ApiOperation({ summary: 'Edit your message: its room gets `message_edited`' })
  @ApiOkResponse({ type: MessageEditedDto })
  edit(
    @Param() { id }: MessageIdParamDto,
    @Body() { message }: EditMessageBodyDto,
    @CurrentUser() caller: Identity | undefined,
    @Ip() address: string,
  ): Promise<MessageEditedFrame> {
    return httpErrors(this.edits.edit(MessageEditsService.ofRequest(caller, address), id, message));
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a message (yours; any, for admins and in your room for its owner): its room gets `message_deleted`' })
  @ApiOkResponse({ type: MessageDeletedDto })
  delete(@Param() { id }: MessageIdParamDto, @CurrentUser() caller: Identity | undefined, @Ip() address: string): Promise<MessageDeletedFrame> {
    return httpErrors(this.edits.delete(MessageEditsService.ofRequest(caller, address), id));
  }
}

/** The protocol's FORBIDDEN and NOT_FOUND as 403 and 404; anything else as it is. */
async function httpErrors<T>(result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (error) {
    if (error instanceof ChatException && error.code === ErrorCode.FORBIDDEN) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: error.message });
    }
    if (error instanceof ChatException && error.code === ErrorCode.NOT_FOUND) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: error.message });
    }
    throw error;
  }
}

import { Controller, Get, Query, UseFilters } from '@nestjs/common';
import { ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { Hub } from '../hub/hub';
import type { Identity } from '../protocol/identity';
import { DEFAULT_ROOM, messageFrame } from '../protocol/frames';
import { MessageStore } from '../store/message-store.service';
import { DEFAULT_PAGE_SIZE, ListMessagesQueryDto, parseListMessagesQuery } from '../protocol/dto/page-query.dto';
import { MessagePageDto } from '../protocol/dto/message-page.dto';
import { FastHttpValidationPipe } from './http-validation.pipe';
import { assertMayRead } from './room-access';
import { StoreUnavailableFilter } from './store-unavailable.filter';

@ApiTags('messages')
@Controller('api/messages')
@UseFilters(StoreUnavailableFilter)
export class MessagesController {
  constructor(
    private readonly store: MessageStore,
    private readonly hub: Hub,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Page through a room\'s history, oldest first' })
  @ApiOkResponse({ type: MessagePageDto })
  @ApiForbiddenResponse({ description: 'A private room, and the caller is not a member' })
  // Bound here, not globally: in Nest 12 global pipes also run on gateway payloads. The hand-checked
  // fast path (parseListMessagesQuery) stays because on this hot route class-transformer and
  // class-validator would be among the largest costs of a request, beside the store read and the
  // socket write (docs/benchmarks.md, "History", says how to measure it with and without).
  async list(
    @Query(new FastHttpValidationPipe(parseListMessagesQuery)) query: ListMessagesQueryDto,
    @CurrentUser() user: Identity | undefined,
  ): Promise<MessagePageDto> {
    const room = query.room ?? DEFAULT_ROOM;
    assertMayRead(this.hub, room, user);
    const page = await this.store.page({
      room,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      before: query.before,
      after: query.after,
    });
    return { messages: page.messages.map(messageFrame), hasMore: page.hasMore };
  }
}

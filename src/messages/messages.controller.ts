import { Controller, Get, Query, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DEFAULT_ROOM } from '../chat/protocol';
import { MessageStore, type MessagePage } from './message-store.service';
import { DEFAULT_PAGE_SIZE, ListMessagesQueryDto, parseListMessagesQuery } from './page-query.dto';
import { MessagePageDto } from './message-page.dto';
import { FastHttpValidationPipe } from '../common/http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';

@ApiTags('messages')
@Controller('api/messages')
@UseFilters(StoreUnavailableFilter)
export class MessagesController {
  constructor(private readonly store: MessageStore) {}

  @Get()
  @ApiOperation({ summary: 'Page through a room\'s history, oldest first' })
  @ApiOkResponse({ type: MessagePageDto })
  // Bound here, not globally: in Nest 12 global pipes also run on gateway payloads.
  list(@Query(new FastHttpValidationPipe(parseListMessagesQuery)) query: ListMessagesQueryDto): Promise<MessagePage> {
    return this.store.page({
      room: query.room ?? DEFAULT_ROOM,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      before: query.before,
      after: query.after,
    });
  }
}

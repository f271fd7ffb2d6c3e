import { Controller, Get, Query, UseFilters, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DEFAULT_ROOM } from '../chat/protocol';
import { MessageStore, type MessagePage } from './message-store.service';
import { DEFAULT_PAGE_SIZE, ListMessagesQueryDto } from './page-query.dto';
import { MessagePageDto } from './message-page.dto';
import { HttpValidationPipe } from '../common/http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';

@ApiTags('messages')
// Bound here, not globally: in Nest 12 global pipes also run on gateway payloads.
@Controller('api/messages')
@UsePipes(HttpValidationPipe)
@UseFilters(StoreUnavailableFilter)
export class MessagesController {
  constructor(private readonly store: MessageStore) {}

  @Get()
  @ApiOperation({ summary: 'Page through a room\'s history, oldest first' })
  @ApiOkResponse({ type: MessagePageDto })
  list(@Query() query: ListMessagesQueryDto): Promise<MessagePage> {
    return this.store.page({
      room: query.room ?? DEFAULT_ROOM,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      before: query.before,
      after: query.after,
    });
  }
}

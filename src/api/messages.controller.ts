import { Controller, Get, Query, Res, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DEFAULT_ROOM, messageFrame } from '../protocol/frames';
import { MessageStore } from '../store/message-store.service';
import { DEFAULT_PAGE_SIZE, ListMessagesQueryDto, parseListMessagesQuery } from '../protocol/dto/page-query.dto';
import { MessagePageDto } from '../protocol/dto/message-page.dto';
import { FastHttpValidationPipe } from './http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';
import type { ServerResponse } from 'node:http';

@ApiTags('messages')
@Controller('api/messages')
@UseFilters(StoreUnavailableFilter)
export class MessagesController {
  constructor(private readonly store: MessageStore) {}

  @Get()
  @ApiOperation({ summary: 'Page through a room\'s history, oldest first' })
  @ApiOkResponse({ type: MessagePageDto })
  // Bound here, not globally: in Nest 12 global pipes also run on gateway payloads.
  async list(
    @Query(new FastHttpValidationPipe(parseListMessagesQuery)) query: ListMessagesQueryDto,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const page = await this.store.page({
      room: query.room ?? DEFAULT_ROOM,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      before: query.before,
      after: query.after,
    });
    // Written here rather than returned: Express's send path (string to Buffer, then headers and
    // body as two chunks) was a tenth of a request; as one string, Node writes headers and body at once.
    const body = JSON.stringify({ messages: page.messages.map(messageFrame), hasMore: page.hasMore });
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
  }
}

import { BadRequestException, Controller, ForbiddenException, Get, NotFoundException, Param, Query, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import {
  ConversationsDto,
  ConversationsQueryDto,
  DEFAULT_CONVERSATIONS,
  DirectPageDto,
  DirectPageQueryDto,
  UserParamDto,
} from '../protocol/dto/direct-page.dto';
import { DEFAULT_PAGE_SIZE } from '../protocol/dto/page-query.dto';
import { directFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { DirectMessageStore } from '../store/direct-message-store.service';
import { UserStore, type UserRecord } from '../store/user-store.service';
import { HttpValidationPipe } from './http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';

const NO_DIRECT_MESSAGES = 'Direct message history needs sign-in: this server runs with AUTH_MODE=anonymous';

/**
 * Direct message history (jwt mode): the caller's conversations, and the pages of one of them,
 * for its two participants only (roles do not matter: an admin reads only their own). In anonymous
 * mode there is nobody to serve them to, so the routes answer 404.
 */
@ApiTags('dm')
@Controller('api/dm')
@UsePipes(HttpValidationPipe)
@UseFilters(StoreUnavailableFilter)
@ApiUnauthorizedResponse({ description: 'No token, or one that is not accepted' })
@ApiNotFoundResponse({ description: 'Anonymous mode (no sign-in, no direct message history); or an unknown user' })
export class DirectMessagesController {
  constructor(
    private readonly dms: DirectMessageStore,
    private readonly users: UserStore,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Your conversations: the other user, the newest direct message and its id; newest first' })
  @ApiOkResponse({ type: ConversationsDto })
  async conversations(@Query() { limit }: ConversationsQueryDto, @CurrentUser() caller: Identity | undefined): Promise<ConversationsDto> {
    const me = signedIn(caller);
    const conversations = await this.dms.conversations(me.userId, limit ?? DEFAULT_CONVERSATIONS);
    return {
      conversations: conversations.map(({ userId, nickname, lastId, lastMessage }) => ({ userId, nickname, lastId, lastMessage: directFrame(lastMessage) })),
    };
  }

  @Get(':user')
  @ApiOperation({ summary: 'Page through a conversation (yours with :user unless `with` names another participant), oldest first' })
  @ApiOkResponse({ type: DirectPageDto })
  @ApiBadRequestResponse({ description: 'A bad parameter, or a nickname several users share (use the user id)' })
  @ApiForbiddenResponse({ description: 'You are not one of the two participants' })
  async page(
    @Param() { user }: UserParamDto,
    @Query() { with: other, limit, before, after }: DirectPageQueryDto,
    @CurrentUser() caller: Identity | undefined,
  ): Promise<DirectPageDto> {
    const me = signedIn(caller);
    const one = await this.findUser(user);
    const two = other === undefined ? me.userId : (await this.findUser(other)).id;
    if (one.id !== me.userId && two !== me.userId) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'Only its two participants can read a conversation' });
    }
    const page = await this.dms.dmPage(one.id, two, { limit: limit ?? DEFAULT_PAGE_SIZE, before, after });
    return { messages: page.messages.map(directFrame), hasMore: page.hasMore };
  }

  /** The user `ref` names among all who ever signed in: by id, else by nickname (400 when several share it). */
  private async findUser(ref: string): Promise<UserRecord> {
    const found = await this.users.findUsers(ref);
    if (found.length === 0) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No user "${ref}" has ever signed in` });
    if (found.length > 1) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `Several users are named "${ref}"; use the user id` });
    }
    return found[0];
  }
}

function signedIn(caller: Identity | undefined): Identity {
  if (!caller) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: NO_DIRECT_MESSAGES });
  return caller;
}

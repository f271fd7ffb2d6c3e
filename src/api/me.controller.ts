import { Controller, Get, NotFoundException, UseFilters } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { Hub } from '../hub/hub';
import type { Identity } from '../protocol/identity';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { StoreUnavailableFilter } from './store-unavailable.filter';

class MeDto {
  @ApiProperty({ example: 'f3b2c1d0-5e6a-4b7c-8d9e-0a1b2c3d4e5f', description: "The token's sub" }) userId!: string;
  @ApiProperty({ example: 'Alice Martin', description: 'From the token: preferred_username, else name, else sub' }) nickname!: string;
  @ApiProperty({ example: ['admin'], type: [String], description: 'From the token (AUTH_ROLES_CLAIM)' }) roles!: string[];
  @ApiProperty({ example: ['general', 'eng'], type: [String], description: 'The rooms the user is a member of, in the order joined' })
  rooms!: string[];
}

@ApiTags('users')
@Controller('api/me')
@UseFilters(StoreUnavailableFilter)
export class MeController {
  constructor(
    private readonly hub: Hub,
    private readonly users: UserStore,
    private readonly directory: RoomDirectory,
  ) {}

  /**
   * The signed-in caller (jwt mode). Like a WebSocket handshake, it records the sign-in, so a user
   * who has only used the API is known too (and, the first time, a member of general).
   */
  @Get()
  @ApiOperation({ summary: 'The signed-in user: id, nickname and roles from the token, and its rooms' })
  @ApiOkResponse({ type: MeDto })
  @ApiNotFoundResponse({ description: 'Anonymous mode: there is no signed-in user' })
  async me(@CurrentUser() user: Identity | undefined): Promise<MeDto> {
    if (!user) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'Nobody is signed in: this server runs without sign-in (AUTH_MODE=anonymous)' });
    }
    const { userId, nickname, roles } = user;
    await this.users.upsertUser({ id: userId, nickname, roles });
    // Online, the hub's copy is current to the last frame; offline, the store's is all there is.
    const rooms = this.hub.roomsOfUser(userId) ?? (await this.directory.roomsOfUser(userId)).filter((room) => this.hub.mayRead(room, userId));
    return { userId, nickname, roles: [...roles], rooms };
  }
}

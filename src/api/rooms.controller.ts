import { Controller, Get, NotFoundException, Param, Query, UseFilters, UsePipes } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { Hub } from '../hub/hub';
import { ROOM_VISIBILITIES, type RoomVisibility } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { RoomParamDto } from '../protocol/dto/room-param.dto';
import { UsersPageQueryDto } from '../protocol/dto/users-page-query.dto';
import { MessageStore } from '../store/message-store.service';
import { HttpValidationPipe } from './http-validation.pipe';
import { assertMayRead } from './room-access';
import { StoreUnavailableFilter } from './store-unavailable.filter';
import { OnlineUserDto } from './users.controller';

class RoomSummaryDto {
  @ApiProperty({ example: 'general' }) name!: string;
  @ApiProperty({ example: 3, description: 'Members connected now' }) members!: number;
  @ApiProperty({ example: 42, nullable: true, type: Number, description: 'Newest message id; null before the first message' })
  lastMessageId!: number | null;
  @ApiPropertyOptional({ enum: ROOM_VISIBILITIES, description: 'jwt mode only: private rooms are listed to their members only' })
  visibility?: RoomVisibility;
}

class RoomsDto {
  @ApiProperty({ type: [RoomSummaryDto] }) rooms!: RoomSummaryDto[];
}

class RoomUsersDto {
  @ApiProperty({ example: 'general' }) room!: string;
  @ApiProperty({ type: [OnlineUserDto] }) users!: OnlineUserDto[];
  @ApiProperty({ example: 1, description: 'Members connected now, all of them' }) total!: number;
}

@ApiTags('rooms')
@Controller('api/rooms')
@UsePipes(HttpValidationPipe)
@UseFilters(StoreUnavailableFilter)
export class RoomsController {
  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Rooms that have members or messages or were created, by name (private ones for their members only)' })
  @ApiOkResponse({ type: RoomsDto })
  async list(@CurrentUser() user: Identity | undefined): Promise<RoomsDto> {
    const counts = this.hub.roomCounts();
    const identified = this.hub.isIdentified;
    const rooms = new Map<string, RoomSummaryDto>();
    const summary = (name: string, members: number, lastMessageId: number | null, visibility: RoomVisibility): RoomSummaryDto =>
      identified ? { name, members, lastMessageId, visibility } : { name, members, lastMessageId };
    for (const { name, lastMessageId, visibility } of await this.store.rooms()) {
      if (!this.hub.mayRead(name, user?.userId)) continue;
      rooms.set(name, summary(name, counts.get(name) ?? 0, lastMessageId, visibility));
    }
    for (const [name, members] of counts) {
      // A private room is stored from its creation: one that is not listed yet is not the caller's.
      if (!rooms.has(name) && !this.hub.isPrivate(name)) rooms.set(name, summary(name, members, null, 'public'));
    }
    return { rooms: [...rooms.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  @Get(':room/users')
  @ApiOperation({ summary: 'Users in a room now, in join order, a page at a time' })
  @ApiOkResponse({ type: RoomUsersDto })
  @ApiNotFoundResponse({ description: 'The room has neither members nor messages' })
  @ApiForbiddenResponse({ description: 'A private room, and the caller is not a member' })
  async users(
    @Param() { room }: RoomParamDto,
    @Query() { offset, limit }: UsersPageQueryDto,
    @CurrentUser() user: Identity | undefined,
  ): Promise<RoomUsersDto> {
    assertMayRead(this.hub, room, user);
    const { users, total } = this.hub.roomUsers(room, offset, limit);
    if (total === 0 && !(await this.store.rooms()).some((r) => r.name === room)) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No room named "${room}"` });
    }
    return { room, users, total };
  }
}

import { Controller, Get, NotFoundException, Param, Query, UseFilters, UsePipes } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Hub } from '../hub/hub';
import { RoomParamDto } from '../protocol/dto/room-param.dto';
import { UsersPageQueryDto } from '../protocol/dto/users-page-query.dto';
import { MessageStore } from '../store/message-store.service';
import { HttpValidationPipe } from './http-validation.pipe';
import { StoreUnavailableFilter } from './store-unavailable.filter';
import { OnlineUserDto } from './users.controller';

class RoomSummaryDto {
  @ApiProperty({ example: 'general' }) name!: string;
  @ApiProperty({ example: 3, description: 'Members connected now' }) members!: number;
  @ApiProperty({ example: 42, nullable: true, type: Number, description: 'Newest message id; null before the first message' })
  lastMessageId!: number | null;
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
  @ApiOperation({ summary: 'Rooms that have members or messages, by name' })
  @ApiOkResponse({ type: RoomsDto })
  async list(): Promise<RoomsDto> {
    const counts = this.hub.roomCounts();
    const rooms = new Map<string, RoomSummaryDto>();
    for (const { name, lastMessageId } of await this.store.rooms()) {
      rooms.set(name, { name, members: counts.get(name) ?? 0, lastMessageId });
    }
    for (const [name, members] of counts) {
      if (!rooms.has(name)) rooms.set(name, { name, members, lastMessageId: null });
    }
    return { rooms: [...rooms.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  @Get(':room/users')
  @ApiOperation({ summary: 'Users in a room now, in join order, a page at a time' })
  @ApiOkResponse({ type: RoomUsersDto })
  @ApiNotFoundResponse({ description: 'The room has neither members nor messages' })
  async users(@Param() { room }: RoomParamDto, @Query() { offset, limit }: UsersPageQueryDto): Promise<RoomUsersDto> {
    const { users, total } = this.hub.roomUsers(room, offset, limit);
    if (total === 0 && !(await this.store.rooms()).some((r) => r.name === room)) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No room named "${room}"` });
    }
    return { room, users, total };
  }
}

import { Controller, Get, Query, UsePipes } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Hub, type OnlineUser } from '../hub/hub';
import { UsersPageQueryDto } from '../protocol/dto/users-page-query.dto';
import { HttpValidationPipe } from './http-validation.pipe';

export class OnlineUserDto {
  @ApiProperty({ example: 'Guest1' }) nickname!: string;
  @ApiProperty({ example: '2026-11-21T23:44:19.123Z' }) connectedAt!: string;
  @ApiPropertyOptional({ example: 'f3b2c1d0-5e6a-4b7c-8d9e-0a1b2c3d4e5f', description: 'jwt mode only: the user id (the token\'s sub)' })
  userId?: string;
}

class OnlineUsersDto {
  @ApiProperty({ type: [OnlineUserDto] }) users!: OnlineUserDto[];
  @ApiProperty({ example: 1, description: 'Users connected now, all of them' }) total!: number;
}

@ApiTags('users')
@Controller('api/users')
@UsePipes(HttpValidationPipe)
export class UsersController {
  constructor(private readonly hub: Hub) {}

  @Get()
  @ApiOperation({ summary: 'Users connected now, in connection order, a page at a time' })
  @ApiOkResponse({ type: OnlineUsersDto })
  list(@Query() { offset, limit }: UsersPageQueryDto): { users: OnlineUser[]; total: number } {
    return this.hub.onlineUsers(offset, limit);
  }
}

import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { NicknamesService, type OnlineUser } from './nicknames.service';

export class OnlineUserDto {
  @ApiProperty({ example: 'Guest1' }) nickname!: string;
  @ApiProperty({ example: '2026-11-21T23:44:19.123Z' }) connectedAt!: string;
}

class OnlineUsersDto {
  @ApiProperty({ type: [OnlineUserDto] }) users!: OnlineUserDto[];
}

@ApiTags('users')
@Controller('api/users')
export class UsersController {
  constructor(private readonly nicknames: NicknamesService) {}

  @Get()
  @ApiOperation({ summary: 'Users connected now, in connection order' })
  @ApiOkResponse({ type: OnlineUsersDto })
  list(): { users: OnlineUser[] } {
    return { users: this.nicknames.users() };
  }
}

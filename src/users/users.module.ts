import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { NicknamesService } from './nicknames.service';
import { RoomMembersService } from './room-members.service';
import { RoomsController } from './rooms.controller';
import { UsersController } from './users.controller';

@Module({
  imports: [MessagesModule],
  controllers: [UsersController, RoomsController],
  providers: [NicknamesService, RoomMembersService],
  exports: [NicknamesService, RoomMembersService],
})
export class UsersModule {}

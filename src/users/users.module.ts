import { Module } from '@nestjs/common';
import { NicknamesService } from './nicknames.service';
import { UsersController } from './users.controller';

@Module({
  controllers: [UsersController],
  providers: [NicknamesService],
  exports: [NicknamesService],
})
export class UsersModule {}

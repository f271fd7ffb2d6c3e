import { Module } from '@nestjs/common';
import { HubModule } from '../hub/hub.module';
import { StoreModule } from '../store/store.module';
import { MessagesController } from './messages.controller';
import { RoomsController } from './rooms.controller';
import { UsersController } from './users.controller';

/** The REST API under /api: history, rooms and users. */
@Module({
  imports: [HubModule, StoreModule],
  controllers: [MessagesController, RoomsController, UsersController],
})
export class ApiModule {}

import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HubModule } from '../hub/hub.module';
import { StoreModule } from '../store/store.module';
import { DirectMessagesController } from './dm.controller';
import { MeController } from './me.controller';
import { MessagesController } from './messages.controller';
import { ModerationController } from './moderation.controller';
import { RoomsController } from './rooms.controller';
import { UsersController } from './users.controller';

/** The REST API under /api: history, rooms, users, the signed-in user and (jwt mode) direct messages. */
@Module({
  imports: [HubModule, StoreModule, ChatModule],
  controllers: [MessagesController, RoomsController, UsersController, MeController, DirectMessagesController, ModerationController],
})
export class ApiModule {}

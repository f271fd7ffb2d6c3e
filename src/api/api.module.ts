import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HubModule } from '../hub/hub.module';
import { StoreModule } from '../store/store.module';
import { AdminController } from './admin.controller';
import { DirectMessagesController } from './dm.controller';
import { MeController } from './me.controller';
import { MessageEditsController } from './message-edits.controller';
import { MessagesController } from './messages.controller';
import { ModerationController } from './moderation.controller';
import { RoomsController } from './rooms.controller';
import { UsersController } from './users.controller';

/** The REST API under /api: history, rooms, users, the signed-in user, (jwt mode) direct messages, and the admin routes. */
@Module({
  imports: [HubModule, StoreModule, ChatModule],
  controllers: [MessagesController, RoomsController, UsersController, MeController, DirectMessagesController, MessageEditsController, AdminController, ModerationController],
})
export class ApiModule {}

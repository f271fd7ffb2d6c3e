import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { MessagesModule } from '../messages/messages.module';
import { UsersModule } from '../users/users.module';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';

@Module({
  imports: [FanoutModule, MessagesModule, UsersModule],
  providers: [ChatGateway, ChatService],
})
export class ChatModule {}

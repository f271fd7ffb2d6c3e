import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { MessagesModule } from '../messages/messages.module';
import { UsersModule } from '../users/users.module';
import { ChatGateway } from './chat.gateway';
import { ChatService } from './chat.service';
import { ResumeService } from './resume.service';
import { RoomsService } from './rooms.service';
import { ErrorReporter } from './error-reporter';
import { WsProtocolExceptionFilter } from './ws-exception.filter';

@Module({
  imports: [FanoutModule, MessagesModule, UsersModule],
  providers: [ChatGateway, ChatService, RoomsService, ResumeService, ErrorReporter, WsProtocolExceptionFilter],
  exports: [ErrorReporter],
})
export class ChatModule {}

import { Module } from '@nestjs/common';
import { MessageStore } from './message-store.service';
import { MessagesController } from './messages.controller';

@Module({
  controllers: [MessagesController],
  providers: [MessageStore],
  exports: [MessageStore],
})
export class MessagesModule {}

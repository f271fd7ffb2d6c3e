import { Module } from '@nestjs/common';
import { HubModule } from '../hub/hub.module';
import { StoreModule } from '../store/store.module';
import { ChatService } from './chat.service';
import { ResumeService } from './resume.service';
import { RoomsService } from './rooms.service';

@Module({
  imports: [HubModule, StoreModule],
  providers: [ChatService, RoomsService, ResumeService],
  exports: [ChatService, RoomsService, ResumeService],
})
export class ChatModule {}

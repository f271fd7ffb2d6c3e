import { Module } from '@nestjs/common';
import { HubModule } from '../hub/hub.module';
import { StoreModule } from '../store/store.module';
import { ChatService } from './chat.service';
import { DataSubjectService } from './data-subject.service';
import { DirectMessagesService } from './direct-messages.service';
import { MembershipService } from './membership.service';
import { MessageEditsService } from './message-edits.service';
import { ModerationService } from './moderation.service';
import { ResumeService } from './resume.service';
import { RetentionService } from './retention.service';
import { RoomsService } from './rooms.service';
import { SessionLifetime } from './session-lifetime.service';

@Module({
  imports: [HubModule, StoreModule],
  providers: [ChatService, RoomsService, ResumeService, SessionLifetime, MembershipService, DirectMessagesService, MessageEditsService, RetentionService, DataSubjectService, ModerationService],
  exports: [ChatService, RoomsService, ResumeService, SessionLifetime, MembershipService, DirectMessagesService, MessageEditsService, RetentionService, DataSubjectService, ModerationService],
})
export class ChatModule {}

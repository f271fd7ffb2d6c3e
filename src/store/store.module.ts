import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { AuditStore } from './audit-store.service';
import { DataSubjectStore } from './data-subject-store.service';
import { DirectMessageStore } from './direct-message-store.service';
import { MessageChanges } from './message-changes.service';
import { MessageStore } from './message-store.service';
import { RetentionStore } from './retention-store.service';
import { ModerationStore } from './moderation-store.service';
import { RoomDirectory } from './room-directory.service';
import { STORE_OPTIONS, StoreDatabase, type StoreOptions } from './store-database';
import { UserStore } from './user-store.service';

@Module({
  providers: [
    MessageStore,
    // MessageStore owns the shared connection and health; the other stores take their turns on it.
    { provide: StoreDatabase, inject: [MessageStore], useFactory: (messages: MessageStore) => messages.database },
    UserStore,
    RoomDirectory,
    DirectMessageStore,
    AuditStore,
    MessageChanges,
    RetentionStore,
    DataSubjectStore,
    ModerationStore,
    {
      provide: STORE_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<EnvironmentVariables, true>): Partial<StoreOptions> => ({
        busyTimeoutMs: config.get('STORE_BUSY_TIMEOUT_MS', { infer: true }),
      }),
    },
  ],
  exports: [MessageStore, UserStore, RoomDirectory, DirectMessageStore, AuditStore, MessageChanges, RetentionStore, DataSubjectStore, ModerationStore],
})
export class StoreModule {}

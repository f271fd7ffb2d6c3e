import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { MessageStore, STORE_OPTIONS, type StoreOptions } from './message-store.service';

@Module({
  providers: [
    MessageStore,
    {
      provide: STORE_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<EnvironmentVariables, true>): Partial<StoreOptions> => ({
        busyTimeoutMs: config.get('STORE_BUSY_TIMEOUT_MS', { infer: true }),
      }),
    },
  ],
  exports: [MessageStore],
})
export class StoreModule {}

import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { ErrorReporter } from './error-reporter';
import { Hub, HUB_SETTINGS, type HubSettings } from './hub';

// The Broker and the ClusterBus come from the global ClusterModule (one node or N).
@Module({
  providers: [
    Hub,
    ErrorReporter,
    {
      provide: HUB_SETTINGS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<EnvironmentVariables, true>): HubSettings => ({
        presenceBatchThreshold: config.get('PRESENCE_BATCH_THRESHOLD', { infer: true }),
        presenceBatchMs: config.get('PRESENCE_BATCH_MS', { infer: true }),
        nickHoldMs: config.get('NICK_HOLD_MS', { infer: true }),
        identified: config.get('AUTH_MODE', { infer: true }) === 'jwt',
      }),
    },
  ],
  exports: [Hub, ErrorReporter],
})
export class HubModule {}

import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { BROKER } from './broker';
import { ErrorReporter } from './error-reporter';
import { Hub, HUB_SETTINGS, type HubSettings } from './hub';
import { LocalBroker } from './local-broker';

@Module({
  providers: [
    Hub,
    ErrorReporter,
    { provide: BROKER, useClass: LocalBroker },
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

import { ConfigService } from '@nestjs/config';
import { createApp, exitOnSignals, listenFailure, readyBanner, readyInfo } from './app.setup';
import { AppLogger } from './config/app-logger';
import type { EnvironmentVariables } from './config/env.validation';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  exitOnSignals(app);
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  const port = config.get('PORT', { infer: true });
  // Every interface, as Node listens without a host ('::' also takes IPv4); Fastify's default is localhost only.
  await app.listen(port, '::').catch((error: unknown) => {
    throw listenFailure(error, port);
  });
  const ready = readyInfo(app, config.get('AUTH_MODE', { infer: true }));
  app.get(AppLogger).log({ msg: readyBanner(ready), ready }, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

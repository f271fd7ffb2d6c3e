import { ConfigService } from '@nestjs/config';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, exitOnSignals } from './app.setup';
import { AppLogger } from './config/app-logger';
import type { EnvironmentVariables } from './config/env.validation';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  exitOnSignals(app);
  const port = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService).get('PORT', { infer: true });
  // Every interface, as Node listens without a host ('::' also takes IPv4); Fastify's default is localhost only.
  await app.listen(port, '::');
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  app.get(AppLogger).log({ msg: `listening on port ${address.port}`, port: address.port }, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { AppLogger } from './config/app-logger';
import type { EnvironmentVariables } from './config/env.validation';
import { ChatWsAdapter } from './gateway/chat-ws.adapter';
import { ErrorReporter } from './hub/error-reporter';

/** Builds the application exactly as production runs it; tests call this too, then listen on port 0. */
export async function createApp(): Promise<INestApplication> {
  // Fastify rather than Express: its router and request/reply objects cost a fraction of Express's
  // per request, which is what GET /api/messages needs to keep up with the raw baseline
  // (docs/benchmarks.md). It sends no X-Powered-By and no ETag on API responses.
  const adapter = new FastifyAdapter({ forceCloseConnections: true, routerOptions: { ignoreTrailingSlash: true } });
  const app = await NestFactory.create<NestFastifyApplication>(await AppModule.forRoot(), adapter, { abortOnError: false, bufferLogs: true });
  app.useLogger(app.get(AppLogger));
  // The browser client at `/`: src/web/public under jest, dist/web/public (nest-cli "assets") in
  // production. One route per file, found at startup, so no request ever looks for a file on disk.
  app.useStaticAssets({ root: join(__dirname, 'web', 'public'), wildcard: false, index: 'index.html' });
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  app.useWebSocketAdapter(
    new ChatWsAdapter(app, {
      maxPayloadBytes: config.get('MAX_PAYLOAD_BYTES', { infer: true }),
      heartbeatIntervalMs: config.get('HEARTBEAT_INTERVAL_MS', { infer: true }),
      errors: app.get(ErrorReporter),
    }),
  );
  const openApi = new DocumentBuilder()
    .setTitle('Chat backend HTTP API')
    .setDescription('History, presence and health. The WebSocket protocol is in docs/protocol.md.')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}

/** Closes the app once on SIGTERM or SIGINT (clients get 1001, writes flush), then exits 0. */
export function exitOnSignals(app: INestApplication): void {
  const logger = app.get(AppLogger);
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.log({ msg: 'shutting down', signal }, 'Bootstrap');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ msg: 'shutdown failed', err: error }, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

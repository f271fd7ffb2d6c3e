import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { join } from 'node:path';
import { AppModule } from './app.module';
import type { EnvironmentVariables } from './config/env.validation';
import { ChatWsAdapter } from './gateway/chat-ws.adapter';
import { ErrorReporter } from './hub/error-reporter';

/**
 * Serves the browser client after the API routes rather than before them (where `useStaticAssets`
 * puts it), so that an API request never looks for a file on disk: Nest registers its not-found
 * handler once, at init, right after the routes.
 */
class ChatHttpAdapter extends ExpressAdapter {
  override setNotFoundHandler(...args: Parameters<ExpressAdapter['setNotFoundHandler']>): unknown {
    // The browser client at `/`: src/web/public under jest, dist/web/public (nest-cli "assets") in production.
    this.useStaticAssets(join(__dirname, 'web', 'public'), { index: 'index.html' });
    return super.setNotFoundHandler(...args);
  }
}

/** Builds the application exactly as production runs it; tests call this too, then listen on port 0. */
export async function createApp(): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(await AppModule.forRoot(), new ChatHttpAdapter(), {
    abortOnError: false,
    forceCloseConnections: true,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  // No ETag on API responses: hashing every page costs more than the rare 304 saves, since the
  // server reads the page either way. The browser client's static files keep theirs (serve-static).
  app.set('etag', false);
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
  const logger = app.get(Logger);
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

import type { INestApplication, LogLevel as NestLogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { ChatWsAdapter } from './chat/chat-ws.adapter';
import { LOG_LEVELS, type EnvironmentVariables, type LogLevel } from './config/env.validation';

const NEST_LEVELS: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  return level === 'silent' ? [] : NEST_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}

/** Builds the application exactly as production runs it; tests call this too, then listen on port 0. */
export async function createApp(): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(), { abortOnError: false, forceCloseConnections: true, bufferLogs: true });
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  app.useLogger(nestLogLevels(config.get('LOG_LEVEL', { infer: true })));
  app.useWebSocketAdapter(
    new ChatWsAdapter(app, {
      maxPayloadBytes: config.get('MAX_PAYLOAD_BYTES', { infer: true }),
      heartbeatIntervalMs: config.get('HEARTBEAT_INTERVAL_MS', { infer: true }),
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
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    console.error(JSON.stringify({ msg: `received ${signal}, shutting down` }));
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

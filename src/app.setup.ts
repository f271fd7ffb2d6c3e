import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import { AuthService } from './auth/auth.service';
import { identityOfRequest, installHttpAuth, routePolicy } from './auth/http-auth';
import { AppLogger } from './config/app-logger';
import type { AuthMode, EnvironmentVariables } from './config/env.validation';
import { ModerationService } from './chat/moderation.service';
import { CLUSTER_COUNTERS, type ClusterCounters } from './cluster/cluster-counters';
import { REDIS_CONNECTION, type RedisConnection } from './cluster/redis-connection';
import { banRefusal } from './chat/sanctions';
import { ChatWsAdapter } from './gateway/chat-ws.adapter';
import { allowedOrigins } from './config/allowed-origins';
import { normalizeAddress, proxyTrust, type ProxyTrust } from './config/trust-proxy';
import { CLUSTER_BUS, type ClusterBus } from './hub/cluster-bus';
import { ErrorReporter } from './hub/error-reporter';
import { AuditStore } from './store/audit-store.service';
import { ChatMetrics } from './metrics/chat-metrics.service';
import { contentSecurityPolicy } from './web/client-config';
import { ADMIN_TOKEN_USER_ID } from './protocol/identity';

/** Builds the application exactly as production runs it; tests call this too, then listen on port 0. */
export async function createApp(): Promise<INestApplication> {
  // Fastify rather than Express: its router and request/reply objects cost a fraction of Express's
  // per request, which is what GET /api/messages needs to keep up with the raw baseline
  // (docs/benchmarks.md). It sends no X-Powered-By and no ETag on API responses.
  // TRUST_PROXY decides request.ip as it decides a handshake's address (config/trust-proxy.ts); the
  // adapter is built before the configuration is read, so the predicate is filled in right after.
  let trust: ProxyTrust = () => false;
  const adapter = new FastifyAdapter({ forceCloseConnections: true, routerOptions: { ignoreTrailingSlash: true }, trustProxy: (address: string) => trust(address) });
  const app = await NestFactory.create<NestFastifyApplication>(await AppModule.forRoot(), adapter, { abortOnError: false, bufferLogs: true });
  app.useLogger(app.get(AppLogger));
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  trust = proxyTrust(config.get('TRUST_PROXY', { infer: true }));
  const metrics = app.get(ChatMetrics);
  guardHttpServer(app.getHttpServer(), config.get('HANDSHAKE_TIMEOUT_MS', { infer: true }), metrics);
  // The browser client at `/`: src/web/public under jest, dist/web/public (nest-cli "assets") in
  // production. One route per file, found at startup, so no request ever looks for a file on disk.
  const csp = contentSecurityPolicy(config.get('AUTH_REFRESH_URL', { infer: true }));
  app.useStaticAssets({
    root: join(__dirname, 'web', 'public'),
    wildcard: false,
    index: 'index.html',
    // @fastify/static 10 hands over the FastifyReply; Nest's type still names a raw response's setHeader.
    setHeaders: (reply) => void (reply as unknown as FastifyReply).header('Content-Security-Policy', csp),
  });
  const auth = app.get(AuthService);
  // Every /api/* route and /metrics, by the route matched, before any controller (auth/http-auth.ts).
  const audit = app.get(AuditStore);
  installHttpAuth(adapter.getInstance(), auth, (request, failure) =>
    audit.note({ actor: null, action: 'auth_failed', target: request.routeOptions.url ?? null, reason: failure.reason, address: normalizeAddress(request.ip) }),
  );
  refuseBannedOnRest(adapter.getInstance(), app.get(ModerationService));
  reloadSanctionsAfterOutage(app);
  app.useWebSocketAdapter(
    new ChatWsAdapter(app, {
      maxPayloadBytes: config.get('MAX_PAYLOAD_BYTES', { infer: true }),
      heartbeatIntervalMs: config.get('HEARTBEAT_INTERVAL_MS', { infer: true }),
      errors: app.get(ErrorReporter),
      auth,
      limits: {
        handshake: {
          allowedOrigins: allowedOrigins(config.get('ALLOWED_ORIGINS', { infer: true })),
          trust,
          maxPerAddress: config.get('MAX_CONNECTIONS_PER_IP', { infer: true }),
          maxPerUser: config.get('MAX_CONNECTIONS_PER_USER', { infer: true }),
          maxTotal: config.get('MAX_CONNECTIONS', { infer: true }),
        },
        rate: { perSecond: config.get('RATE_LIMIT_PER_SEC', { infer: true }), burst: config.get('RATE_LIMIT_BURST', { infer: true }) },
        handshakeTimeoutMs: config.get('HANDSHAKE_TIMEOUT_MS', { infer: true }),
        shared: app.get<ClusterCounters | null>(CLUSTER_COUNTERS) ?? undefined,
        bus: app.get<ClusterBus>(CLUSTER_BUS),
      },
      metrics,
      audit,
      bans: app.get(ModerationService),
    }),
  );
  const openApi = new DocumentBuilder()
    .setTitle('Chat backend HTTP API')
    .setDescription('History, presence and health. The WebSocket protocol is in docs/protocol.md.')
    .setVersion('0.1.0');
  // Swagger UI itself stays open (it shows the API's shape, no data); its "Authorize" button takes the token.
  if (auth.required) openApi.addBearerAuth().addSecurityRequirements('bearer');
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi.build()));
  return app;
}

export type { AuthMode };

/**
 * Cluster mode: the sanction changes other nodes made while Redis was down never reached this one;
 * they are in the shared store, so they are read from it again once Redis is back.
 */
function reloadSanctionsAfterOutage(app: INestApplication): void {
  const redis = app.get<RedisConnection | null>(REDIS_CONNECTION);
  const moderation = app.get(ModerationService);
  let wasDown = false;
  redis?.onStatus((up) => {
    if (!up) wasDown = true;
    else if (wasDown) void moderation.reload().catch((error: unknown) => app.get(AppLogger).warn({ msg: 'sanctions not reloaded after the Redis outage', err: error }, 'Moderation'));
  });
}

/** Read by Node's HTTP server at each connection and at listen, though @types/node declares them as createServer options only. */
interface NodeServerSettings {
  maxHeaderSize?: number;
  connectionsCheckingInterval?: number;
}

/** Node's default (16 KiB), set here so that it is a decision: a JWT in a header fits many times over. Beyond: 431. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Node's HTTP server limits, set explicitly rather than left to defaults that suit none of this:
 * headers must arrive within HANDSHAKE_TIMEOUT_MS (Node's default is 60 s, so a slow-drip client
 * held a socket for a minute) and a whole request too (Fastify sets no limit at all); Node checks
 * both on a timer, every connectionsCheckingInterval (default 30 s), so that is made a fraction of
 * the timeout. A late request is answered 408 and an oversized header block 431 (Fastify's
 * clientError handler); this counts both, once per connection.
 */
function guardHttpServer(server: Server & NodeServerSettings, timeoutMs: number, metrics: ChatMetrics): void {
  server.maxHeaderSize = MAX_HEADER_BYTES;
  server.headersTimeout = timeoutMs;
  server.requestTimeout = timeoutMs;
  server.connectionsCheckingInterval = Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4)));
  server.on('clientError', (error: NodeJS.ErrnoException) => {
    if (error.code === 'HPE_HEADER_OVERFLOW') metrics.connectionsRefused.inc({ reason: 'headers_too_large' });
    else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics.connectionsRefused.inc({ reason: 'handshake_timeout' });
  });
}

/** What the ready banner says: where to point a browser, a WebSocket client and Swagger, and where the data is. */
export interface ReadyInfo {
  port: number;
  webUrl: string;
  wsUrl: string;
  docsUrl: string;
  database: string;
  mode: AuthMode;
}

export function readyInfo(app: INestApplication, mode: AuthMode): ReadyInfo {
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  const sqlitePath = config.get('SQLITE_PATH', { infer: true });
  const databaseUrl = config.get('DATABASE_URL', { infer: true });
  // The server listens on every interface; localhost is the address that works on the machine itself.
  return {
    port,
    webUrl: `http://localhost:${port}/`,
    wsUrl: `ws://localhost:${port}/`,
    docsUrl: `http://localhost:${port}/api/docs`,
    database: databaseUrl
      ? postgresLabel(databaseUrl, config.get('DATABASE_SCHEMA', { infer: true }))
      : sqlitePath === ':memory:'
        ? ':memory: (kept in memory, gone at exit)'
        : resolve(sqlitePath),
    mode,
  };
}

/** PostgreSQL's host, port, database and schema: never the user or password of DATABASE_URL. */
function postgresLabel(url: string, schema: string | undefined): string {
  const { host, pathname } = new URL(url);
  return `PostgreSQL ${host}${pathname} schema ${schema ?? 'public'}`;
}

/** The one line that says the server is up, logged only once the port is bound. */
export function readyBanner(info: ReadyInfo): string {
  return `nest-chat ready on port ${info.port}: web client ${info.webUrl}, WebSocket ${info.wsUrl}, API docs ${info.docsUrl}, database ${info.database}, mode ${info.mode}`;
}

/** A listen failure as one line an operator can act on, naming the port and the PORT variable. */
export function listenFailure(error: unknown, port: number): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new Error(`Port ${port} is already in use. Stop the program using it, or set PORT to another port (PORT=0 picks a free one).`);
  }
  if (code === 'EACCES') {
    return new Error(`Port ${port} needs privileges this process does not have. Set PORT to a port above 1023.`);
  }
  return new Error(`Cannot listen on port ${port} (PORT): ${error instanceof Error ? error.message : String(error)}`);
}

export interface ShutdownSummary {
  /** WebSocket clients connected when shutdown began, all closed with 1001. */
  clientsClosed: number;
  /** Message writes committed while shutting down: those pending at the start and any accepted during the close handshakes. */
  writesFlushed: number;
}

/** Closes the app (clients get 1001, accepted writes flush, the database closes) and says what that took. */
export async function closeApp(app: INestApplication): Promise<ShutdownSummary> {
  const metrics = app.get(ChatMetrics);
  const clientsClosed = (await metrics.connectedClients.get()).values[0]?.value ?? 0;
  const committedBefore = await committedWrites(metrics);
  await app.close();
  return { clientsClosed, writesFlushed: (await committedWrites(metrics)) - committedBefore };
}

/** Every successful group commit adds its size to this histogram's sum: the writes committed so far. */
async function committedWrites(metrics: ChatMetrics): Promise<number> {
  const { values } = await metrics.storeBatchSize.get();
  return values.find((v) => v.metricName === 'chat_store_batch_size_sum')?.value ?? 0;
}

/** Closes the app once on SIGTERM or SIGINT, logs what that took, then exits 0 (1 if closing failed). */
export function exitOnSignals(app: INestApplication): void {
  const logger = app.get(AppLogger);
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.log({ msg: 'shutting down', signal }, 'Bootstrap');
    closeApp(app).then(
      (summary) => {
        logger.log({ msg: `shutdown complete: ${summary.clientsClosed} client(s) closed, ${summary.writesFlushed} pending write(s) flushed`, shutdown: summary }, 'Bootstrap');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ msg: 'shutdown failed', err: error }, 'Bootstrap');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * A ban keeps its user or address off REST too (a banned user could otherwise still read rooms and
 * edit or delete their messages over /api): /api/* answers 403 as the handshake does. After the
 * auth hook (preParsing), so the user is known; ADMIN_TOKEN is never refused. Open routes (health,
 * the web client, /metrics' own rules) are not checked.
 */
function refuseBannedOnRest(fastify: FastifyInstance, moderation: ModerationService): void {
  fastify.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const policy = routePolicy(request.routeOptions.url);
    if (policy !== 'user' && policy !== 'admin') return;
    const identity = identityOfRequest(request.raw);
    const ban = moderation.bannedHandshake(normalizeAddress(request.ip), identity?.userId, identity?.userId === ADMIN_TOKEN_USER_ID);
    if (!ban) return;
    const refusal = banRefusal(ban);
    await reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
  });
}

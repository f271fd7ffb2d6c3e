import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.setup';
import { MessageStore } from '../../src/store/message-store.service';

export interface TestServer {
  app: INestApplication;
  port: number;
  wsUrl: string;
  httpUrl: string;
  close(): Promise<void>;
}

const DEFAULT_ENV = {
  PORT: '0',
  SQLITE_PATH: ':memory:',
  LOG_LEVEL: 'silent',
  HEARTBEAT_INTERVAL_MS: '30000',
  MAX_PAYLOAD_BYTES: '65536',
  SQLITE_SYNCHRONOUS: 'NORMAL',
  RESUME_MAX: '1000',
  NICK_HOLD_MS: '30000',
  // Empty is unset: a jwt-mode server started earlier in the same file leaves nothing behind.
  AUTH_MODE: '',
  AUTH_JWT_SECRET: '',
  AUTH_JWT_PUBLIC_KEY: '',
  AUTH_JWKS_URL: '',
  AUTH_JWT_ISSUER: '',
  AUTH_JWT_AUDIENCE: '',
  AUTH_ROLES_CLAIM: '',
  METRICS_TOKEN: '',
  AUTH_LOGIN_URL: '',
  AUTH_REFRESH_URL: '',
  ADMIN_TOKEN: '',
  RETENTION_DAYS: '',
  RETENTION_INTERVAL_MS: '',
  // Abuse limits at their defaults, except two the other suites would trip: the rate limit (they
  // send bursts of hundreds of frames to test ordering and delivery) and the per-address cap (the
  // large-room suites connect over a thousand clients from 127.0.0.1). test/abuse-limits.e2e-spec.ts
  // tests them all, at their defaults where it can.
  ALLOWED_ORIGINS: '',
  RATE_LIMIT_PER_SEC: '1000000',
  RATE_LIMIT_BURST: '1000000',
  MAX_CONNECTIONS_PER_IP: '1000000',
  MAX_CONNECTIONS_PER_USER: '',
  MAX_CONNECTIONS: '',
  TRUST_PROXY: '',
  HANDSHAKE_TIMEOUT_MS: '',
  // SQLite unless a suite asks for PostgreSQL (test/postgres.e2e-spec.ts).
  DATABASE_URL: '',
  DATABASE_SCHEMA: '',
};

/** Starts the real application in this process on an ephemeral port. */
export async function startServer(env: Partial<Record<keyof typeof DEFAULT_ENV, string>> = {}): Promise<TestServer> {
  Object.assign(process.env, DEFAULT_ENV, env);
  const app = await createApp();
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  let closed = false;
  return {
    app,
    port,
    wsUrl: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes the next call of a MessageStore read slow, as on a networked database: messages
 * committed during the first `beforeMs` are broadcast live *and* in the result; those
 * committed during the following `afterMs` are broadcast live only.
 */
export function slowNextRead(server: TestServer, method: 'page' | 'newestSince', beforeMs = 100, afterMs = 100): void {
  const store = server.app.get(MessageStore);
  const read = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
  jest.spyOn(store, method).mockImplementationOnce((async (...args: unknown[]) => {
    await sleep(beforeMs);
    const result = await read(...args);
    await sleep(afterMs);
    return result;
  }) as never);
}

import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.setup';

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

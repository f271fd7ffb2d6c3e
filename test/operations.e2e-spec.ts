import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, withTimeout } from './support/chat-client';
import { spawnServer } from './support/server-process';
import { getJson, startServer, type TestServer } from './support/test-app';

async function scrape(server: TestServer): Promise<string> {
  const res = await fetch(`${server.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text.slice(0, 2000)}`);
  return Number(line.slice(series.length + 1));
}

describe('metrics (e2e)', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(() => server.close());

  it('exports connections, message flow, deliveries, errors by code, store latency and event-loop lag', async () => {
    const a = (await ChatClient.join(server.wsUrl)).client;
    const b = (await ChatClient.join(server.wsUrl)).client;
    a.send('message', { message: 'one' });
    a.send('message', { message: 'two' });
    await b.collect('message', 2);
    a.sendRaw('{oops');
    a.send('nope');
    await a.collect('error', 2);

    const text = await scrape(server);

    expect(sample(text, 'chat_connected_clients')).toBe(2);
    expect(sample(text, 'chat_messages_received_total')).toBe(2);
    expect(sample(text, 'chat_messages_stored_total')).toBe(2);
    expect(sample(text, 'chat_messages_broadcast_total')).toBe(2);
    // a: welcome, history, join, join(b), one, two, 2 errors = 8; b: welcome, history, join, one, two = 5
    expect(sample(text, 'chat_frames_delivered_total')).toBe(13);
    expect(sample(text, 'chat_errors_total{code="BAD_JSON"}')).toBe(1);
    expect(sample(text, 'chat_errors_total{code="UNKNOWN_EVENT"}')).toBe(1);
    expect(sample(text, 'chat_store_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'chat_store_batch_size_sum')).toBe(2);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);

    await b.close();
    await a.nextOfType('notification');
    expect(sample(await scrape(server), 'chat_connected_clients')).toBe(1);
    await a.close();
  });

  it('keeps /metrics out of the OpenAPI document', async () => {
    const doc = await getJson(`${server.httpUrl}/api/docs-json`);
    expect(Object.keys((doc.body as { paths: object }).paths)).not.toContain('/metrics');
  });
});

describe('health endpoints (e2e)', () => {
  it('serves /health/live and /health/ready', async () => {
    const server = await startServer();
    try {
      await expect(getJson(`${server.httpUrl}/health/live`)).resolves.toEqual({
        status: 200,
        body: { status: 'ok', info: {}, error: {}, details: {} },
      });
      await expect(getJson(`${server.httpUrl}/health/ready`)).resolves.toMatchObject({
        status: 200,
        body: { status: 'ok', info: { database: { status: 'up' } } },
      });
    } finally {
      await server.close();
    }
  });
});

describe('structured logs (e2e)', () => {
  it('writes one JSON line per connection open/close and per error frame, never the message text at info', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-logs-'));
    const server = await spawnServer({ SQLITE_PATH: join(dir, 'chat.sqlite'), LOG_LEVEL: 'info' });
    try {
      const client = (await ChatClient.join(server.wsUrl)).client;
      client.send('message', { message: 'top secret 7f3a' });
      await client.nextOfType('message');
      client.sendRaw('{"event":"nick","data":{"nickname":"no spaces allowed"}}');
      await client.nextOfType('error');
      await client.close();
      await fetch(`http://127.0.0.1:${server.port}/api/messages?limit=1`, { signal: AbortSignal.timeout(5000) });
      server.child.kill('SIGTERM');
      await withTimeout(server.exited, 10000, 'exit');

      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.msg === 'connection open')).toMatchObject({
        level: 'info',
        remoteAddress: expect.stringContaining('127.0.0.1'),
        nickname: 'Guest1',
        time: expect.stringMatching(/Z$/),
      });
      expect(lines.find((l) => l.msg === 'connection close')).toMatchObject({ nickname: 'Guest1', code: 1005 });
      expect(lines.find((l) => l.msg === 'error frame')).toMatchObject({ level: 'info', code: 'VALIDATION', event: 'nick' });
      expect(lines.some((l) => l.msg === 'request completed')).toBe(true);
      expect(server.output()).not.toContain('top secret 7f3a');
      expect(server.output()).not.toContain('no spaces allowed');
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
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

describe('HTTP response headers (e2e)', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(() => server.close());

  it.each([
    ['/api/messages?limit=1', 200],
    ['/api/messages?limit=0', 400],
    ['/api/rooms', 200],
    ['/api/users', 200],
    ['/api/nope', 404],
    ['/health/live', 200],
    ['/metrics', 200],
    ['/asyncapi.yaml', 200],
    ['/api/docs', 200],
    ['/api/docs/swagger-ui.css', 200],
    ['/', 200],
    ['/main.js', 200],
  ])('answers %s (%i) without X-Powered-By', async (path, status) => {
    const res = await fetch(`${server.httpUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(status);
    expect(res.headers.has('x-powered-by')).toBe(false);
  });

  it('answers the WebSocket handshake without X-Powered-By', async () => {
    const socket = new WebSocket(server.wsUrl);
    try {
      const upgrade = await withTimeout(
        new Promise<Record<string, unknown>>((resolve, reject) => socket.once('upgrade', (res) => resolve(res.headers)).once('error', reject)),
        5000,
        'upgrade',
      );
      expect(upgrade).toHaveProperty('upgrade', 'websocket');
      expect(upgrade).not.toHaveProperty('x-powered-by');
    } finally {
      socket.terminate();
    }
  });

  it('sends no ETag on API responses', async () => {
    const res = await fetch(`${server.httpUrl}/api/messages`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(res.headers.has('etag')).toBe(false);
  });
});

describe('structured logs (e2e)', () => {
  it('writes one JSON line per connection open/close, per error frame and per HTTP request (not probes or scrapes), never the message text or credentials at info', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-logs-'));
    const server = await spawnServer({ SQLITE_PATH: join(dir, 'chat.sqlite'), LOG_LEVEL: 'info' });
    try {
      const client = (await ChatClient.join(server.wsUrl)).client;
      client.send('message', { message: 'top secret 7f3a' });
      await client.nextOfType('message');
      client.sendRaw('{"event":"nick","data":{"nickname":"no spaces allowed"}}');
      await client.nextOfType('error');
      await client.close();
      const headers = { authorization: 'Bearer s3cret-token', cookie: 'session=s3cret-cookie' };
      for (const path of ['/api/messages?limit=1', '/health/live', '/health/ready', '/health', '/metrics', '/main.js']) {
        const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers, signal: AbortSignal.timeout(5000) });
        expect(res.status).toBe(200);
      }
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
      // One line per request, probes and scrapes excluded, with the whole URL and the credentials redacted.
      const requests = lines.filter((l) => l.msg === 'request completed') as Array<{ req: { url: string; headers: Record<string, string> }; res: { statusCode: number } }>;
      expect(requests.map((l) => [l.req.url, l.res.statusCode])).toEqual([
        ['/api/messages?limit=1', 200],
        ['/main.js', 200],
      ]);
      expect(requests[0].req.headers).toMatchObject({ authorization: '[Redacted]', cookie: '[Redacted]' });
      expect(server.output()).not.toContain('s3cret');
      expect(server.output()).not.toContain('top secret 7f3a');
      expect(server.output()).not.toContain('no spaces allowed');
    } finally {
      server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import { AuditStore } from '../src/store/audit-store.service';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { refusedHandshake } from './support/handshake';
import { TestKeyPair } from './support/jwt';
import { JWT_ENV, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

const JSON_TYPE = 'application/json; charset=utf-8';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const METRICS_TOKEN = 'scrape-me-0123456789';
/** The limits at their defaults (test-app raises the rate limit for the other suites); /metrics behind a token, as jwt mode needs. */
const DEFAULTS = { RATE_LIMIT_PER_SEC: '', RATE_LIMIT_BURST: '', MAX_CONNECTIONS_PER_IP: '', METRICS_TOKEN };

function refusal(status: 403 | 429 | 503, reason: string, message: string) {
  const error = { 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status];
  return { statusCode: status, error, reason, message };
}

const FOREIGN = refusal(403, 'origin', 'This origin may not open a WebSocket here (ALLOWED_ORIGINS)');
const PER_IP = refusal(429, 'address_limit', 'Too many connections from this address (MAX_CONNECTIONS_PER_IP)');
const PER_USER = refusal(429, 'user_limit', 'Too many connections for this user (MAX_CONNECTIONS_PER_USER)');
const FULL = refusal(503, 'server_full', 'The server has as many connections as it takes (MAX_CONNECTIONS); try again later');

/** A connection that got past its connect sequence (welcome, history, its own join). */
async function joined(url: string, headers?: Record<string, string>): Promise<ChatClient> {
  const client = await ChatClient.connect(url, headers ? { headers } : undefined);
  await client.nextOfType('welcome');
  await client.nextOfType('history');
  await client.nextOfType('notification');
  return client;
}

/** The value of one sample of /metrics (0 when absent). */
async function metric(server: TestServer, sample: string): Promise<number> {
  const res = await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** A raw TCP connection to the server: what it answered and when it closed. */
function rawSocket(server: TestServer): { socket: Socket; answer: Promise<{ text: string; closedAfterMs: number }> } {
  const socket = connect(server.port, '127.0.0.1');
  const began = Date.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const answer = withTimeout(new Promise<{ text: string; closedAfterMs: number }>((resolve) => socket.once('close', () => resolve({ text, closedAfterMs: Date.now() - began }))), 10_000, 'the server to close the socket');
  return { socket, answer };
}

const closeAll = (clients: ChatClient[]) => Promise.all(clients.map((c) => c.close()));

describe('abuse limits (e2e)', () => {
  describe('the Origin check', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ...DEFAULTS, ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:3000' });
    });

    afterAll(() => server.close());

    it('refuses a foreign Origin with 403 before the upgrade, counted by reason', async () => {
      const before = await metric(server, 'chat_connections_refused_total{reason="origin"}');
      const answer = await refusedHandshake(server.wsUrl, { headers: { origin: 'https://evil.example' } });
      expect(answer).toEqual({ status: 403, headers: expect.objectContaining({ 'content-type': JSON_TYPE }), body: FOREIGN });
      expect(await metric(server, 'chat_connections_refused_total{reason="origin"}')).toBe(before + 1);
    });

    it.each([
      ['no Origin (a server, a CLI, a mobile app)', undefined],
      ["the server's own origin", 'own'],
      ['an origin in ALLOWED_ORIGINS', 'https://chat.example.com'],
      ['an origin in ALLOWED_ORIGINS written with its default port', 'http://localhost:3000'],
    ])('allows %s', async (_what, origin) => {
      const value = origin === 'own' ? `http://127.0.0.1:${server.port}` : origin;
      const client = await joined(server.wsUrl, value === undefined ? undefined : { origin: value });
      await client.close();
    });

    it.each([
      ['the same host on another port', (port: number) => `http://127.0.0.1:${port + 1}`],
      ['another host on the same port', (port: number) => `http://localhost:${port}`],
      ['an origin ALLOWED_ORIGINS does not list', () => 'https://chat.example.com:8443'],
      ['Origin: null (a sandboxed frame)', () => 'null'],
    ])('refuses %s', async (_what, origin) => {
      await expect(refusedHandshake(server.wsUrl, { headers: { origin: origin(server.port) } })).resolves.toMatchObject({ status: 403, body: FOREIGN });
    });

    it('allows any origin with ALLOWED_ORIGINS=*', async () => {
      const open = await startServer({ ...DEFAULTS, ALLOWED_ORIGINS: '*' });
      try {
        const client = await joined(open.wsUrl, { origin: 'https://anywhere.example' });
        await client.close();
      } finally {
        await open.close();
      }
    });
  });

  describe('connection caps', () => {
    it('refuses a connection over MAX_CONNECTIONS_PER_IP with 429 and Retry-After, and takes one again once a connection closes', async () => {
      const server = await startServer({ ...DEFAULTS, MAX_CONNECTIONS_PER_IP: '2' });
      try {
        const clients = [await joined(server.wsUrl), await joined(server.wsUrl)];
        const answer = await refusedHandshake(server.wsUrl);
        expect(answer).toEqual({ status: 429, headers: expect.objectContaining({ 'retry-after': '10', 'content-type': JSON_TYPE }), body: PER_IP });
        expect(await metric(server, 'chat_connections_refused_total{reason="address_limit"}')).toBe(1);
        await clients[0].close();
        // The count is released when the socket closes, which the server sees just after the client.
        await sleep(100);
        clients[0] = await joined(server.wsUrl);
        await closeAll(clients);
      } finally {
        await server.close();
      }
    });

    it('refuses a connection over MAX_CONNECTIONS with 503 and Retry-After', async () => {
      const server = await startServer({ ...DEFAULTS, MAX_CONNECTIONS: '2' });
      try {
        const clients = [await joined(server.wsUrl), await joined(server.wsUrl)];
        const answer = await refusedHandshake(server.wsUrl);
        expect(answer).toEqual({ status: 503, headers: expect.objectContaining({ 'retry-after': '10', 'content-type': JSON_TYPE }), body: FULL });
        expect(await metric(server, 'chat_connections_refused_total{reason="server_full"}')).toBe(1);
        await closeAll(clients);
      } finally {
        await server.close();
      }
    });

    describe('jwt mode', () => {
      let server: TestServer;

      beforeAll(async () => {
        server = await startServer({ ...DEFAULTS, ...JWT_ENV, MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '3' });
      });

      afterAll(() => server.close());

      it('refuses a user its third connection with 429 and Retry-After; another user still connects', async () => {
        const bearer = async (sub: string) => ({ authorization: `Bearer ${await tokenFor(sub)}` });
        const clients = [await joined(server.wsUrl, await bearer('ann')), await joined(server.wsUrl, await bearer('ann'))];
        const answer = await refusedHandshake(server.wsUrl, { headers: await bearer('ann') });
        expect(answer).toEqual({ status: 429, headers: expect.objectContaining({ 'retry-after': '10', 'content-type': JSON_TYPE }), body: PER_USER });
        expect(await metric(server, 'chat_connections_refused_total{reason="user_limit"}')).toBe(1);
        clients.push(await joined(server.wsUrl, await bearer('bob')));
        await closeAll(clients);
      });

      it('releases the counts of handshakes refused after the caps (a 401, a 429): they take no place', async () => {
        for (let i = 0; i < 4; i++) await expect(refusedHandshake(server.wsUrl)).resolves.toMatchObject({ status: 401 });
        await sleep(100);
        const bearer = async (sub: string) => ({ authorization: `Bearer ${await tokenFor(sub)}` });
        const clients = [await joined(server.wsUrl, await bearer('cy')), await joined(server.wsUrl, await bearer('cy')), await joined(server.wsUrl, await bearer('di'))];
        await closeAll(clients);
      });
    });
  });

  describe('TRUST_PROXY and X-Forwarded-For', () => {
    it('believes X-Forwarded-For from a trusted proxy: the cap counts the client behind it', async () => {
      const server = await startServer({ ...DEFAULTS, MAX_CONNECTIONS_PER_IP: '1', TRUST_PROXY: '127.0.0.0/8, ::1' });
      try {
        const a = await joined(server.wsUrl, { 'x-forwarded-for': '203.0.113.7' });
        // A client's own entry sits to the left of what the proxy appended: the proxy's is the one believed.
        const b = await joined(server.wsUrl, { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' });
        await expect(refusedHandshake(server.wsUrl, { headers: { 'x-forwarded-for': '198.51.100.2' } })).resolves.toMatchObject({ status: 429, body: PER_IP });
        await closeAll([a, b]);
      } finally {
        await server.close();
      }
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const server = await startServer({ ...DEFAULTS, MAX_CONNECTIONS_PER_IP: '1', TRUST_PROXY: '10.0.0.0/8' });
      try {
        const a = await joined(server.wsUrl, { 'x-forwarded-for': '203.0.113.7' });
        await expect(refusedHandshake(server.wsUrl, { headers: { 'x-forwarded-for': '198.51.100.2' } })).resolves.toMatchObject({ status: 429, body: PER_IP });
        await a.close();
      } finally {
        await server.close();
      }
    });
  });

  describe('handshake hygiene', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ...DEFAULTS, HANDSHAKE_TIMEOUT_MS: '500' });
    });

    afterAll(() => server.close());

    it('closes a handshake whose headers never finish within HANDSHAKE_TIMEOUT_MS (408), counted', async () => {
      const { socket, answer } = rawSocket(server);
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
      const { text, closedAfterMs } = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(closedAfterMs).toBeGreaterThanOrEqual(450);
      expect(closedAfterMs).toBeLessThan(3000);
      expect(await metric(server, 'chat_connections_refused_total{reason="handshake_timeout"}')).toBe(1);
    });

    it('closes a request on the upgrade path whose body never arrives', async () => {
      const { socket, answer } = rawSocket(server);
      socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 100\r\n\r\n{"half":`);
      const { text, closedAfterMs } = await answer;
      // Fastify answers the route (404) without reading the body; the request still has to end in time.
      expect(text).toContain('HTTP/1.1 408 Request Timeout\r\n');
      expect(closedAfterMs).toBeLessThan(3000);
    });

    it('closes a handshake still waiting for its token to be verified (a JWKS that never answers) after HANDSHAKE_TIMEOUT_MS', async () => {
      const silent = createServer(() => undefined); // takes the JWKS request and never answers
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const jwksUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`;
      const waiting = await startServer({ ...DEFAULTS, AUTH_MODE: 'jwt', AUTH_JWKS_URL: jwksUrl, HANDSHAKE_TIMEOUT_MS: '500' });
      try {
        const key = await TestKeyPair.generate('ES256');
        const socket = new WebSocket(waiting.wsUrl, { headers: { authorization: `Bearer ${await key.sign()}` } });
        const began = Date.now();
        const ended = await withTimeout(
          new Promise<string>((resolve) => {
            socket.on('open', () => resolve('open'));
            socket.on('unexpected-response', () => resolve('answered'));
            socket.on('error', (error) => resolve(error.message));
          }),
          4000,
          'the handshake to be closed',
        );
        expect(ended).toBe('socket hang up');
        expect(Date.now() - began).toBeLessThan(2000);
        expect(await metric(waiting, 'chat_connections_refused_total{reason="handshake_timeout"}')).toBe(1);
      } finally {
        await waiting.close();
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('refuses oversized headers with 431, counted', async () => {
      const { socket, answer } = rawSocket(server);
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`);
      const { text } = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(await metric(server, 'chat_connections_refused_total{reason="headers_too_large"}')).toBe(1);
    });
  });

  describe('the rate limit', () => {
    let server: TestServer;

    beforeAll(async () => {
      // One token a second: what a burst gets through is exactly the bucket, whatever the machine's speed.
      server = await startServer({ ...DEFAULTS, RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '10' });
    });

    afterAll(() => server.close());

    const rateLimited = (f: Frame) => f.type === 'error' && f.code === 'RATE_LIMITED';

    it.each([
      ['garbage (not JSON)', (c: ChatClient) => c.sendRaw('{garbage'), 'BAD_JSON'],
      ['unknown events', (c: ChatClient) => c.send('no_such_event', {}), 'UNKNOWN_EVENT'],
      ['binary frames', (c: ChatClient) => c.sendRaw(Buffer.from([1, 2, 3]), true), 'BAD_FRAME'],
    ])('counts %s: past the burst, frames are dropped and one RATE_LIMITED says when to retry', async (_what, send, code) => {
      const client = await joined(server.wsUrl);
      for (let i = 0; i < 50; i++) send(client);
      const answered = await client.collect((f) => f.type === 'error' && f.code === code, 10);
      const limited = await client.next(rateLimited);
      expect(limited).toEqual({ type: 'error', code: 'RATE_LIMITED', message: expect.any(String) as unknown, retryAfterMs: expect.any(Number) as unknown });
      expect(limited.retryAfterMs).toBeGreaterThan(0);
      expect(limited.retryAfterMs).toBeLessThanOrEqual(1000);
      await client.expectNoMore('error', 300);
      expect(answered).toHaveLength(10);
      expect(client.frames.filter(rateLimited)).toHaveLength(1);
      await client.close();
    });

    it('processes frames again once the bucket has refilled', async () => {
      const client = await joined(server.wsUrl);
      for (let i = 0; i < 11; i++) client.send('message', { message: `m${i}` });
      const limited = await client.next(rateLimited);
      await client.collect('message', 10);
      await sleep(Number(limited.retryAfterMs) + 50);
      client.send('message', { message: 'after the wait' });
      await expect(client.next((f) => f.type === 'message' && f.message === 'after the wait')).resolves.toBeDefined();
      expect(await metric(server, 'chat_rate_limited_frames_total')).toBeGreaterThanOrEqual(1);
      await client.close();
    });

    it('limits one connection without slowing another', async () => {
      const flooder = await joined(server.wsUrl);
      const other = await joined(server.wsUrl);
      for (let i = 0; i < 30; i++) flooder.sendRaw('{');
      await flooder.next(rateLimited);
      other.send('message', { message: 'unaffected' });
      await expect(other.next((f) => f.type === 'message' && f.message === 'unaffected')).resolves.toBeDefined();
      await closeAll([flooder, other]);
    });
  });

  it('shares one bucket among all connections of a user in jwt mode', async () => {
    const server = await startServer({ ...DEFAULTS, ...JWT_ENV, RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '10' });
    try {
      const bearer = async (sub: string) => ({ authorization: `Bearer ${await tokenFor(sub)}` });
      const [tab1, tab2, other] = [await joined(server.wsUrl, await bearer('eve')), await joined(server.wsUrl, await bearer('eve')), await joined(server.wsUrl, await bearer('fay'))];
      for (let i = 0; i < 8; i++) tab1.sendRaw('{');
      await tab1.collect((f) => f.code === 'BAD_JSON', 8);
      for (let i = 0; i < 8; i++) tab2.sendRaw('{');
      // The user had 10: tab1 took 8, so tab2 gets 2 through and is limited.
      await tab2.next((f) => f.code === 'RATE_LIMITED');
      expect(tab2.frames.filter((f) => f.code === 'BAD_JSON')).toHaveLength(2);
      for (let i = 0; i < 8; i++) other.sendRaw('{');
      await other.collect((f) => f.code === 'BAD_JSON', 8);
      expect(other.frames.filter((f) => f.code === 'RATE_LIMITED')).toHaveLength(0);
      await closeAll([tab1, tab2, other]);
    } finally {
      await server.close();
    }
  });

  it('closes a connection still flooding 10 s after it was first limited with 1008, with one RATE_LIMITED a second at most', async () => {
    const server = await startServer(DEFAULTS);
    try {
      const flooder = await joined(server.wsUrl);
      const bystander = await joined(server.wsUrl);
      let firstLimitedAt = 0;
      const flood = setInterval(() => {
        if (flooder.socket.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < 20; i++) flooder.sendRaw('garbage that is a chat message');
        if (firstLimitedAt === 0 && flooder.frames.some((f) => f.code === 'RATE_LIMITED')) firstLimitedAt = Date.now();
      }, 50);
      try {
        const closed = await flooder.waitClosed(15_000);
        const after = Date.now() - firstLimitedAt;
        expect(closed).toEqual({ code: 1008, reason: 'Rate limit exceeded' });
        expect(after).toBeGreaterThanOrEqual(9500);
        expect(after).toBeLessThan(12_000);
      } finally {
        clearInterval(flood);
      }
      expect(flooder.frames.filter((f) => f.code === 'RATE_LIMITED').length).toBeLessThanOrEqual(11);
      expect(await metric(server, 'chat_flood_closes_total')).toBe(1);
      expect(await metric(server, 'chat_rate_limited_connections_total')).toBe(1);
      // The bystander in the same room got what the limit let through (the burst of 40, then 20 a second), then the flooder's leave.
      await bystander.next((f) => f.type === 'notification' && f.event === 'leave');
      const through = bystander.frames.filter((f) => f.type === 'message').length;
      expect(through).toBeGreaterThanOrEqual(40 + 20 * 9);
      expect(through).toBeLessThanOrEqual(40 + 20 * 12);
      await bystander.close();
    } finally {
      await server.close();
    }
  }, 30_000);

  describe('audit rows for failed sign-ins', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ...DEFAULTS, ...JWT_ENV, TRUST_PROXY: '127.0.0.1' });
    });

    afterAll(() => server.close());

    it('writes auth_failed with the reason and the client address for a refused handshake and a refused REST request', async () => {
      await expect(refusedHandshake(server.wsUrl, { headers: { authorization: 'Bearer nonsense', 'x-forwarded-for': '192.0.2.10' } })).resolves.toMatchObject({ status: 401 });
      const rest = await fetch(`${server.httpUrl}/api/rooms`, { headers: { 'x-forwarded-for': '192.0.2.11' }, signal: AbortSignal.timeout(5000) });
      expect(rest.status).toBe(401);
      const admin = await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: `Bearer ${await tokenFor('gus')}` }, signal: AbortSignal.timeout(5000) });
      expect(admin.status).toBe(403);
      const audit = server.app.get(AuditStore);
      await audit.drain();
      const rows = await audit.page({ limit: 10, action: 'auth_failed' });
      expect(rows.map(({ actor, action, target, reason, address }) => ({ actor, action, target, reason, address }))).toEqual([
        { actor: null, action: 'auth_failed', target: '/metrics', reason: 'insufficient_role', address: '127.0.0.1' },
        { actor: null, action: 'auth_failed', target: '/api/rooms', reason: 'missing', address: '192.0.2.11' },
        { actor: null, action: 'auth_failed', target: null, reason: 'malformed', address: '192.0.2.10' },
      ]);
      expect(await metric(server, 'chat_connections_refused_total{reason="unauthorized"}')).toBe(1);
    });
  });
});

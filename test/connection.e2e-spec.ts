import { connect } from 'node:net';
import { ChatClient, withTimeout } from './support/chat-client';
import { getJson, slowNextRead, startServer, type TestServer } from './support/test-app';

describe('connection lifecycle (e2e)', () => {
  let server: TestServer;
  const clients: ChatClient[] = [];
  const track = <T extends { client: ChatClient }>(joined: T): T => (clients.push(joined.client), joined);

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  it('greets a new client with welcome, history and its own join notification, in that order', async () => {
    const client = await ChatClient.connect(server.wsUrl);
    clients.push(client);

    await expect(client.next()).resolves.toEqual({
      type: 'welcome',
      nickname: 'Guest1',
      message: 'Welcome, Guest1',
      users: ['Guest1'],
      usersTotal: 1,
      room: 'general',
      rooms: ['general'],
      reconnectToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    await expect(client.next()).resolves.toEqual({ type: 'history', room: 'general', messages: [], hasMore: false });
    await expect(client.next()).resolves.toEqual({
      type: 'notification',
      event: 'join',
      room: 'general',
      nickname: 'Guest1',
      message: 'Guest1 joined',
    });
  });

  it('gives each connected client a unique Guest<N> name and lists everyone online in welcome', async () => {
    const a = track(await ChatClient.join(server.wsUrl));
    const b = track(await ChatClient.join(server.wsUrl));

    expect(a.welcome.nickname).toBe('Guest1');
    expect(b.welcome.nickname).toBe('Guest2');
    expect(b.welcome.users).toEqual(['Guest1', 'Guest2']);
    await expect(a.client.nextOfType('notification')).resolves.toEqual({
      type: 'notification',
      event: 'join',
      room: 'general',
      nickname: 'Guest2',
      message: 'Guest2 joined',
    });
  });

  it('sends the last 50 messages, oldest first, with hasMore when there are more', async () => {
    const writer = track(await ChatClient.join(server.wsUrl)).client;
    for (let i = 1; i <= 55; i++) writer.send('message', { message: `m${i}` });
    await writer.collect('message', 55);

    const { history } = track(await ChatClient.join(server.wsUrl));

    const messages = history.messages as Array<{ message: string; id: number }>;
    expect(history.hasMore).toBe(true);
    expect(messages).toHaveLength(50);
    expect(messages[0].message).toBe('m6');
    expect(messages[49].message).toBe('m55');
    expect(messages.map((m) => m.id)).toEqual([...messages.map((m) => m.id)].sort((x, y) => x - y));
  });

  it('tells everyone left when a client disconnects, and drops it from the user list', async () => {
    const a = track(await ChatClient.join(server.wsUrl));
    const b = await ChatClient.join(server.wsUrl);
    await a.client.nextOfType('notification');

    await b.client.close();

    await expect(a.client.nextOfType('notification')).resolves.toEqual({
      type: 'notification',
      event: 'leave',
      room: 'general',
      nickname: 'Guest2',
      message: 'Guest2 left',
    });
    const users = await getJson(`${server.httpUrl}/api/users`);
    expect(users.status).toBe(200);
    expect(users.body).toEqual({ users: [{ nickname: 'Guest1', connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) }], total: 1 });
  });

  it('lists online users over REST with their connection time', async () => {
    track(await ChatClient.join(server.wsUrl));
    const b = track(await ChatClient.join(server.wsUrl));
    b.client.send('nick', { nickname: 'bob' });
    await b.client.nextOfType('nick_update');

    const { status, body } = await getJson(`${server.httpUrl}/api/users`);

    expect(status).toBe(200);
    expect((body as { users: Array<{ nickname: string }> }).users.map((u) => u.nickname)).toEqual(['Guest1', 'bob']);
  });

  it('does not deliver a message twice or lose it when it races a joining client', async () => {
    const writer = track(await ChatClient.join(server.wsUrl)).client;
    const joiners: Promise<ChatClient>[] = [];
    for (let i = 0; i < 20; i++) {
      writer.send('message', { message: `race ${i}` });
      joiners.push(ChatClient.connect(server.wsUrl));
    }
    const all = await Promise.all(joiners);
    clients.push(...all);
    await writer.collect('message', 20);

    for (const joiner of all) {
      const history = await joiner.nextOfType('history');
      const live = () => joiner.frames.filter((f) => f.type === 'message').map((f) => f.message);
      const seen = (history.messages as Array<{ message: string }>).map((m) => m.message);
      await waitUntil(() => seen.length + live().length >= 20);
      expect([...seen, ...live()]).toEqual(Array.from({ length: 20 }, (_, i) => `race ${i}`));
    }
  });
});

describe('connecting during traffic with a slow history read (e2e)', () => {
  it('holds live frames until welcome, history and join are sent, and drops what the history already had', async () => {
    const server = await startServer();
    const writer = (await ChatClient.join(server.wsUrl)).client;
    slowNextRead(server, 'page');
    const joining = ChatClient.connect(server.wsUrl);
    for (let i = 0; i < 30; i++) {
      writer.send('message', { message: `busy ${i}` });
      await new Promise((r) => setTimeout(r, 10));
    }
    const joiner = await joining;
    try {
      await writer.collect('message', 30);
      const [welcome, history, join] = await Promise.all([joiner.next(), joiner.next(), joiner.next()]);
      expect([welcome.type, history.type, join.type]).toEqual(['welcome', 'history', 'notification']);
      const seen = (history.messages as Array<{ message: string }>).map((m) => m.message);
      expect(seen.length).toBeGreaterThan(0);
      await joiner.collect('message', 30 - seen.length);
      await joiner.expectNoMore('message', 200);
      const live = joiner.frames.filter((f) => f.type === 'message').map((f) => f.message);
      expect([...seen, ...live]).toEqual(Array.from({ length: 30 }, (_, i) => `busy ${i}`));
    } finally {
      await Promise.all([writer.close(), joiner.close()]);
      await server.close();
    }
  });
});

describe('frames sent before the connect sequence ends (e2e)', () => {
  it('are handled after welcome, history and join, in the order they were sent', async () => {
    const server = await startServer();
    slowNextRead(server, 'page', 150, 0);
    const client = await ChatClient.connect(server.wsUrl);
    try {
      client.send('nick', { nickname: 'early' });
      client.send('message', { message: 'first words' });

      await expect(client.next()).resolves.toMatchObject({ type: 'welcome', nickname: 'Guest1' });
      await expect(client.next()).resolves.toMatchObject({ type: 'history', messages: [] });
      await expect(client.next()).resolves.toMatchObject({ type: 'notification', event: 'join', nickname: 'Guest1' });
      await expect(client.next()).resolves.toMatchObject({ type: 'nick_update', nickname: 'early', previous: 'Guest1' });
      await expect(client.next()).resolves.toMatchObject({ type: 'message', nickname: 'early', message: 'first words' });
    } finally {
      await client.close();
      await server.close();
    }
  });
});

/**
 * Sends `request` as raw bytes. Resolves with the response head (up to the blank line) once it
 * has arrived, or, with `untilClose`, with everything received once the server closes the socket.
 */
function rawRequest(port: number, request: string, untilClose = false): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const response = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(request, 'latin1'));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0 && !untilClose) resolve(received.slice(0, end));
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  return withTimeout(response, 5000, 'the handshake response').finally(() => socket.destroy());
}

describe('WebSocket handshake (e2e)', () => {
  let server: TestServer;
  const upgrade =
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(() => server.close());

  it('switches protocols for an HTTP/1.1 GET with a Host header', async () => {
    const head = await rawRequest(server.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${upgrade}\r\n`);
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', // RFC 6455 §1.3's example key and answer
    ]);
  });

  it.each([
    [
      'an HTTP/1.0 request (RFC 6455 §4.1: at least 1.1)',
      (port: number) => `GET / HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n${upgrade}\r\n`,
      'WebSocket handshakes need HTTP/1.1 or later',
    ],
    ['a request without Host (RFC 6455 §4.1, §4.2.1)', () => `GET / HTTP/1.1\r\n${upgrade}\r\n`, 'WebSocket handshakes need a Host header'],
    ['an HTTP/1.0 request without Host', () => `GET / HTTP/1.0\r\n${upgrade}\r\n`, 'WebSocket handshakes need HTTP/1.1 or later'],
  ])('answers %s with 400 and closes the connection without upgrading', async (_label, request, reason) => {
    const response = await rawRequest(server.port, request(server.port), true);
    const [head, body] = response.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head).toContain('\r\nConnection: close');
    expect(body).toBe(reason);
  });
});

describe('heartbeat (e2e)', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer({ HEARTBEAT_INTERVAL_MS: '150' });
  });

  afterEach(() => server.close());

  it('terminates a client that does not answer pings and keeps one that does', async () => {
    const silent = await ChatClient.connect(server.wsUrl, { autoPong: false });
    const healthy = await ChatClient.connect(server.wsUrl);

    const closed = await silent.waitClosed(3000);

    expect(closed.code).toBe(1006); // terminated: no close frame
    expect(healthy.socket.readyState).toBe(healthy.socket.OPEN);
    await expect(healthy.next((f) => f.type === 'notification' && f.event === 'leave')).resolves.toMatchObject({
      nickname: 'Guest1',
    });
    await healthy.close();
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

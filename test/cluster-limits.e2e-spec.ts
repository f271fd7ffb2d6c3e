import { ChatClient, type Frame } from './support/chat-client';
import { PrivateRedis, startLimitsCluster, type LimitsCluster, type LimitsNode } from './support/cluster-limits';
import { refusedHandshake } from './support/handshake';
import { describeWithCluster } from './support/services';
import { JWT_ENV, tokenFor } from './support/signed-in';

const ADMIN_TOKEN = 'operator-admin-token-0123';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isError = (event: string) => (f: Frame) => f.type === 'error' && f.event === event;

/** A REST call with a bearer token: status and JSON body. */
async function call(node: LimitsNode, method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${node.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

const bearer = async (sub: string, roles: string[] = []) => ({ authorization: `Bearer ${await tokenFor(sub, sub, roles)}` });

/** A connection past its connect sequence (welcome, history, its own join of `general`). */
async function joined(node: LimitsNode, headers?: Record<string, string>): Promise<ChatClient> {
  const client = await ChatClient.connect(node.wsUrl, headers ? { headers } : undefined);
  await client.nextOfType('welcome');
  await client.nextOfType('history');
  await client.nextOfType('notification');
  return client;
}

function capRefusal(status: 429 | 503, reason: string, message: string) {
  return { statusCode: status, error: status === 429 ? 'Too Many Requests' : 'Service Unavailable', reason, message };
}

// Two (or three) built instances sharing one database and one Redis: a sanction, a kick or a limit
// reached through one node holds on the others at once (docs/security.md#cluster-mode).
describeWithCluster('moderation across nodes (jwt mode, e2e)', () => {
  let cluster: LimitsCluster;
  let a: LimitsNode;
  let b: LimitsNode;
  let clients: ChatClient[];

  beforeAll(async () => {
    cluster = await startLimitsCluster(2, { ...JWT_ENV, ADMIN_TOKEN });
    [a, b] = cluster.nodes;
  }, 60000);

  afterAll(() => cluster?.close(), 30000);

  beforeEach(() => (clients = []));
  afterEach(() => Promise.all(clients.map((c) => c.close())));

  async function connect(node: LimitsNode, sub: string, roles: string[] = []): Promise<ChatClient> {
    const client = await joined(node, await bearer(sub, roles));
    clients.push(client);
    return client;
  }

  it('bans a user on A: its connection on B closes with 4003 "banned", B refuses its handshake (403, Retry-After) and its REST (403), until unbanned on A', async () => {
    const bob = await connect(b, 'bob');

    const res = await call(a, 'POST', '/api/admin/ban', ADMIN_TOKEN, { user: 'bob', seconds: 3600, reason: 'abuse' });

    expect(res).toEqual({ status: 200, body: { action: 'ban', user: 'bob', userId: 'bob', until: expect.stringMatching(ISO), closed: 1 } });
    const until = (res.body as { until: string }).until;
    await expect(bob.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
    const refused = await refusedHandshake(b.wsUrl, { headers: await bearer('bob') });
    expect(refused.status).toBe(403);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3590);
    const body = { statusCode: 403, error: 'Forbidden', reason: 'banned', message: `This user is banned until ${until}`, until };
    expect(refused.body).toEqual(body);
    await expect(call(b, 'GET', '/api/me', await tokenFor('bob'))).resolves.toEqual({ status: 403, body });
    await expect(call(b, 'GET', '/api/admin/bans', ADMIN_TOKEN)).resolves.toMatchObject({ status: 200, body: { bans: [{ kind: 'user', target: 'bob', reason: 'abuse' }] } });

    await expect(call(a, 'POST', '/api/admin/unban', ADMIN_TOKEN, { user: 'bob' })).resolves.toEqual({ status: 200, body: { action: 'unban', user: 'bob', userId: 'bob', lifted: true } });
    await connect(b, 'bob');
    await expect(call(b, 'GET', '/api/me', await tokenFor('bob'))).resolves.toMatchObject({ status: 200 });
  });

  it('kicks on A a user connected to both nodes: every connection closes with 4003 "kicked", counted across nodes; NO_SUCH_USER (404) once it is gone', async () => {
    const phone = await connect(a, 'kim');
    const laptop = await connect(b, 'kim');

    await expect(call(a, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'kim' })).resolves.toEqual({ status: 200, body: { action: 'kick', user: 'kim', userId: 'kim', closed: 2 } });
    await expect(phone.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    await expect(laptop.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });

    const onlyOnB = await connect(b, 'kim');
    await expect(call(a, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'kim' })).resolves.toEqual({ status: 200, body: { action: 'kick', user: 'kim', userId: 'kim', closed: 1 } });
    await expect(onlyOnB.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    await sleep(100);
    await expect(call(a, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'kim' })).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'No user "kim" is online' },
    });
  });

  it('mutes on A: MUTED on B; unmuted on A, B lets the message through', async () => {
    const mia = await connect(b, 'mia');
    const res = await call(a, 'POST', '/api/admin/mute', ADMIN_TOKEN, { room: 'general', user: 'mia', seconds: 600 });
    expect(res).toEqual({ status: 200, body: { action: 'mute', room: 'general', user: 'mia', userId: 'mia', until: expect.stringMatching(ISO) } });
    const until = (res.body as { until: string }).until;

    mia.send('message', { message: 'hello?' });
    await expect(mia.next(isError('message'))).resolves.toEqual({ type: 'error', code: 'MUTED', message: `You are muted in "general" until ${until}`, event: 'message', until });

    await expect(call(a, 'POST', '/api/admin/unmute', ADMIN_TOKEN, { room: 'general', user: 'mia' })).resolves.toMatchObject({ status: 200, body: { lifted: true } });
    mia.send('message', { message: 'back' });
    await expect(mia.next((f) => f.type === 'message' && f.message === 'back')).resolves.toMatchObject({ userId: 'mia' });
  });

  it('slow mode set on A holds on B, one interval per user across nodes: SLOW_MODE on B after a send on A', async () => {
    const root = await connect(a, 'root', ['admin']);
    const onA = await connect(a, 'sam');
    const onB = await connect(b, 'sam');
    root.send('join', { room: 'slow-room' });
    await root.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'slow-room');
    for (const device of [onA, onB]) {
      device.send('join', { room: 'slow-room' });
      await device.next((f) => f.type === 'history' && f.room === 'slow-room');
    }

    root.send('slow_mode', { room: 'slow-room', seconds: 30 });
    await expect(onA.nextOfType('room_settings')).resolves.toEqual({ type: 'room_settings', room: 'slow-room', slowModeSeconds: 30, by: 'root', byId: 'root' });
    await expect(onB.nextOfType('room_settings')).resolves.toEqual({ type: 'room_settings', room: 'slow-room', slowModeSeconds: 30, by: 'root', byId: 'root' });

    onA.send('message', { room: 'slow-room', message: 'first' });
    await onA.next((f) => f.type === 'message' && f.message === 'first');
    await sleep(200);
    onB.send('message', { room: 'slow-room', message: 'second' });
    const slow = await onB.next(isError('message'));
    expect(slow).toEqual({ type: 'error', code: 'SLOW_MODE', message: expect.stringMatching(/^"slow-room" is in slow mode: one message every 30 s; wait \d+ s$/), event: 'message', retryAfterMs: expect.any(Number) });
    expect(slow.retryAfterMs).toBeGreaterThan(28_000);

    root.send('slow_mode', { room: 'slow-room', seconds: 0 });
    await onA.next((f) => f.type === 'room_settings' && f.slowModeSeconds === 0);
    await sleep(200);
    onB.send('message', { room: 'slow-room', message: 'third' });
    await expect(onB.next((f) => f.type === 'message' && f.message === 'third')).resolves.toMatchObject({ userId: 'sam' });
  });
});

describeWithCluster('moderation across nodes (anonymous mode, e2e)', () => {
  let cluster: LimitsCluster;

  beforeAll(async () => {
    cluster = await startLimitsCluster(2, { ADMIN_TOKEN });
  }, 60000);

  afterAll(() => cluster?.close(), 30000);

  it('kicks on A the nickname a connection on B holds (4003 "kicked"); NO_SUCH_USER (404) for one nobody holds', async () => {
    const [a, b] = cluster.nodes;
    const guest = await joined(b);
    try {
      guest.send('nick', { nickname: 'wanderer' });
      await guest.nextOfType('nick_update');

      await expect(call(a, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'wanderer' })).resolves.toEqual({ status: 200, body: { action: 'kick', user: 'wanderer', closed: 1 } });
      await expect(guest.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
      await expect(call(a, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'nobody-here' })).resolves.toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'No user "nobody-here" is online' },
      });
    } finally {
      await guest.close();
    }
  });

  // Last: it bans 127.0.0.1, where every test connection comes from.
  it('bans on A the address of a nickname held on B: closed there with 4003 "banned", and both nodes refuse the address (403)', async () => {
    const [a, b] = cluster.nodes;
    const guest = await joined(b);
    try {
      guest.send('nick', { nickname: 'spammer' });
      await guest.nextOfType('nick_update');

      await expect(call(a, 'POST', '/api/admin/ban', ADMIN_TOKEN, { user: 'spammer', seconds: 60 })).resolves.toEqual({
        status: 200,
        body: { action: 'ban', user: 'spammer', address: '127.0.0.1', until: expect.stringMatching(ISO), closed: 1 },
      });
      await expect(guest.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
      for (const node of [a, b]) {
        const refused = await refusedHandshake(node.wsUrl);
        expect(refused).toMatchObject({ status: 403, body: { reason: 'banned', message: expect.stringMatching(/^This address is banned until /) } });
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50);
      }
    } finally {
      await guest.close();
    }
  });
});

describeWithCluster('abuse limits across nodes (jwt mode, e2e)', () => {
  let cluster: LimitsCluster;
  let a: LimitsNode;
  let b: LimitsNode;
  let clients: ChatClient[];

  beforeAll(async () => {
    // X-Forwarded-For from 127.0.0.1 is believed, so each test has client addresses of its own.
    cluster = await startLimitsCluster(2, {
      ...JWT_ENV,
      TRUST_PROXY: '127.0.0.1',
      MAX_CONNECTIONS_PER_IP: '2',
      MAX_CONNECTIONS_PER_USER: '2',
      MAX_CONNECTIONS: '4',
      RATE_LIMIT_PER_SEC: '1',
      RATE_LIMIT_BURST: '10',
    });
    [a, b] = cluster.nodes;
  }, 60000);

  afterAll(() => cluster?.close(), 30000);

  beforeEach(() => (clients = []));
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    // The counts are given back when the server sees the sockets close.
    await sleep(200);
  });

  async function connect(node: LimitsNode, sub: string, from: string): Promise<ChatClient> {
    const client = await joined(node, { ...(await bearer(sub)), 'x-forwarded-for': from });
    clients.push(client);
    return client;
  }

  const handshake = async (sub: string, from: string) => ({ headers: { ...(await bearer(sub)), 'x-forwarded-for': from } });

  it('gives a user connected to both nodes one rate budget: 10 frames on A, then B answers RATE_LIMITED', async () => {
    const onA = await connect(a, 'rita', '10.0.3.1');
    const onB = await connect(b, 'rita', '10.0.3.2');
    for (let i = 0; i < 10; i++) onA.sendRaw('{');
    await onA.collect((f) => f.code === 'BAD_JSON', 10);
    // RateShare tells the other node every 100 ms.
    await sleep(400);
    onB.sendRaw('{');
    await expect(onB.next((f) => f.type === 'error')).resolves.toEqual({ type: 'error', code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) });
    expect(onB.frames.filter((f) => f.code === 'BAD_JSON')).toHaveLength(0);
  });

  it('counts the connections of an address across nodes: the third gets 429 and Retry-After on either node', async () => {
    await connect(a, 'ann', '10.0.1.1');
    await connect(b, 'ben', '10.0.1.1');
    const expected = capRefusal(429, 'address_limit', 'Too many connections from this address (MAX_CONNECTIONS_PER_IP)');
    for (const node of [a, b]) {
      const refused = await refusedHandshake(node.wsUrl, await handshake('cat', '10.0.1.1'));
      expect(refused).toMatchObject({ status: 429, body: expected });
      expect(refused.headers['retry-after']).toBe('10');
    }
    await connect(b, 'cat', '10.0.1.2');
  });

  it('counts all connections across nodes: past MAX_CONNECTIONS, 503 and Retry-After', async () => {
    await connect(a, 'u1', '10.0.2.1');
    await connect(b, 'u2', '10.0.2.2');
    await connect(a, 'u3', '10.0.2.3');
    await connect(b, 'u4', '10.0.2.4');
    const refused = await refusedHandshake(a.wsUrl, await handshake('u5', '10.0.2.5'));
    expect(refused).toMatchObject({ status: 503, body: capRefusal(503, 'server_full', 'The server has as many connections as it takes (MAX_CONNECTIONS); try again later') });
    expect(refused.headers['retry-after']).toBe('10');
  });

  it("counts a user's connections across nodes: the third gets 429 and Retry-After", async () => {
    await connect(a, 'uma', '10.0.4.1');
    await connect(b, 'uma', '10.0.4.2');
    const refused = await refusedHandshake(b.wsUrl, await handshake('uma', '10.0.4.3'));
    expect(refused).toMatchObject({ status: 429, body: capRefusal(429, 'user_limit', 'Too many connections for this user (MAX_CONNECTIONS_PER_USER)') });
    expect(refused.headers['retry-after']).toBe('10');
  });

  // Last: B is gone afterwards.
  it("stops counting a killed node's connections once its counts lapse (INSTANCE_TTL_MS)", async () => {
    await connect(a, 'dan', '10.0.5.1');
    await connect(b, 'dee', '10.0.5.1');
    await expect(refusedHandshake(a.wsUrl, await handshake('dot', '10.0.5.1'))).resolves.toMatchObject({ status: 429, body: { reason: 'address_limit' } });

    await cluster.kill(b);

    // Within INSTANCE_TTL_MS (2 s) and a renewal's slack, A admits the address's second connection again.
    const deadline = Date.now() + 5000;
    let admitted: ChatClient | undefined;
    while (admitted === undefined && Date.now() < deadline) {
      await sleep(250);
      admitted = await connect(a, 'dot', '10.0.5.1').catch(() => undefined);
    }
    expect(admitted).toBeDefined();
  });
});

describeWithCluster('moderation through a Redis outage (e2e)', () => {
  let redis: PrivateRedis;
  let cluster: LimitsCluster;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    cluster = await startLimitsCluster(2, { ...JWT_ENV, ADMIN_TOKEN }, redis.url);
  }, 60000);

  afterAll(async () => {
    await cluster?.close();
    await redis?.stop();
  }, 30000);

  it('keeps serving through the outage, and a ban made on A meanwhile reaches B from the store once Redis is back: 4003 "banned", then 403', async () => {
    const [a, b] = cluster.nodes;
    const bob = await joined(b, await bearer('bob'));
    try {
      await redis.stop();
      await sleep(300);

      // A serves alone: the ban is in force on A and stored; B cannot hear of it yet.
      await expect(call(a, 'POST', '/api/admin/ban', ADMIN_TOKEN, { user: 'bob' })).resolves.toEqual({ status: 200, body: { action: 'ban', user: 'bob', userId: 'bob', until: null, closed: 0 } });
      await expect(refusedHandshake(a.wsUrl, { headers: await bearer('bob') })).resolves.toMatchObject({ status: 403, body: { reason: 'banned' } });
      bob.send('message', { message: 'still here' });
      await expect(bob.next((f) => f.type === 'message' && f.message === 'still here')).resolves.toMatchObject({ userId: 'bob' });

      await redis.restart();

      // B reconnects (within a second), reloads the sanctions from the store and closes bob with
      // 4003 "banned"; in a build whose broker closes every client when Redis returns (1012, to
      // resume what it missed), that close may come first.
      expect([{ code: 4003, reason: 'banned' }, { code: 1012, reason: 'cluster resync' }]).toContainEqual(await bob.waitClosed(8000));
      // Then B refuses bob's handshakes (asked again until the reload has read the store).
      const deadline = Date.now() + 5000;
      let refused = await refusedHandshake(b.wsUrl, { headers: await bearer('bob') }).catch(() => undefined);
      while (refused === undefined && Date.now() < deadline) {
        await sleep(100);
        refused = await refusedHandshake(b.wsUrl, { headers: await bearer('bob') }).catch(() => undefined);
      }
      expect(refused).toMatchObject({ status: 403, body: { statusCode: 403, error: 'Forbidden', reason: 'banned', message: 'This user is banned until a moderator lifts the ban', until: null } });
    } finally {
      await bob.close();
    }
  });
});

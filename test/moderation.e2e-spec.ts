import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord } from '../src/protocol/audit';
import { AuditStore } from '../src/store/audit-store.service';
import { ChatClient, type Frame } from './support/chat-client';
import { refusedHandshake } from './support/handshake';
import { JWT_ENV, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

const ADMIN_TOKEN = 'operator-admin-token-0123';
const AS_ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_TYPE = 'application/json; charset=utf-8';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const isError = (event: string) => (f: Frame) => f.type === 'error' && f.event === event;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A REST call with a bearer token (none for undefined): status and JSON body. */
async function call(server: TestServer, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

/** The audit log, oldest first, once every queued row is written. */
async function allAuditRows(server: TestServer): Promise<Array<Omit<AuditRecord, 'id' | 'at'>>> {
  const audit = server.app.get(AuditStore);
  await audit.drain();
  return (await audit.page({ limit: 1000 })).reverse().map(({ id: _id, at: _at, ...row }) => row);
}

/** The moderation rows of the audit log: the refusals of the tests' own unauthorised requests (auth_failed, test/abuse-limits.e2e-spec.ts) left out. */
async function auditRows(server: TestServer): Promise<Array<Omit<AuditRecord, 'id' | 'at'>>> {
  return (await allAuditRows(server)).filter((row) => row.action !== 'auth_failed');
}

async function metric(server: TestServer, line: string): Promise<number> {
  // ADMIN_TOKEN opens /metrics in jwt mode; anonymous mode without METRICS_TOKEN ignores it.
  const text = await (await fetch(`${server.httpUrl}/metrics`, { headers: AS_ADMIN, signal: AbortSignal.timeout(5000) })).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.split(' ')[1]);
}

describe('moderation in anonymous mode (ADMIN_TOKEN, e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];

  beforeEach(async () => {
    server = await startServer({ ADMIN_TOKEN });
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  async function guest(headers?: Record<string, string>): Promise<ChatClient> {
    const client = await ChatClient.connect(server.wsUrl, { headers });
    clients.push(client);
    await client.nextOfType('welcome');
    await client.next((f) => f.type === 'notification' && f.event === 'join' && f.nickname === client.nickname);
    return client;
  }

  const admin = () => guest(AS_ADMIN);

  it('refuses every moderation event to a guest (FORBIDDEN), and the admin routes to a request without ADMIN_TOKEN (401)', async () => {
    const bob = await guest();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['kick', { user: bob.nickname }],
      ['ban', { address: '203.0.113.9' }],
      ['unban', { address: '203.0.113.9' }],
      ['mute', { room: 'general', user: bob.nickname }],
      ['unmute', { room: 'general', user: bob.nickname }],
    ];
    for (const [event, data] of cases) {
      bob.send(event, data);
      await expect(bob.next(isError(event))).resolves.toEqual({ type: 'error', code: 'FORBIDDEN', message: `Only admins can ${event}`, event });
    }
    bob.send('slow_mode', { room: 'general', seconds: 10 });
    await expect(bob.next(isError('slow_mode'))).resolves.toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'Only the owner of "general" or an admin can set its slow mode',
      event: 'slow_mode',
    });

    for (const [event, data] of cases) {
      await expect(call(server, 'POST', `/api/admin/${event}`, undefined, data)).resolves.toMatchObject({ status: 401, body: { reason: 'missing' } });
      await expect(call(server, 'POST', `/api/admin/${event}`, 'not-the-admin-token', data)).resolves.toMatchObject({
        status: 401,
        body: { statusCode: 401, error: 'Unauthorized', reason: 'unknown_token' },
      });
    }
    await expect(call(server, 'GET', '/api/admin/bans')).resolves.toMatchObject({ status: 401 });
    await expect(call(server, 'GET', '/api/admin/mutes')).resolves.toMatchObject({ status: 401 });
    expect(bob.socket.readyState).toBe(bob.socket.OPEN);
    await expect(auditRows(server)).resolves.toEqual([]);
    // Each refused request is an auth_failed row: two per route above and one per listing.
    const failed = (await allAuditRows(server)).filter((row) => row.action === 'auth_failed');
    expect(failed).toHaveLength(cases.length * 2 + 2);
  });

  it('kicks the connection holding a nickname with 4003 "kicked", over the socket and over REST, and audits both', async () => {
    const root = await admin();
    const bob = await guest();
    const carol = await guest();

    root.send('kick', { user: bob.nickname, reason: 'spam' });

    await expect(root.nextOfType('moderation')).resolves.toEqual({ type: 'moderation', action: 'kick', user: bob.nickname, closed: 1 });
    await expect(bob.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    await expect(call(server, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: carol.nickname })).resolves.toEqual({
      status: 200,
      body: { action: 'kick', user: carol.nickname, closed: 1 },
    });
    await expect(carol.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    // A kick is not a ban: the kicked client may come back at once.
    await guest();
    await expect(auditRows(server)).resolves.toEqual([
      { actor: 'admin', action: 'kick', target: bob.nickname, room: null, reason: 'spam', address: '127.0.0.1' },
      { actor: 'admin', action: 'kick', target: carol.nickname, room: null, reason: null, address: '127.0.0.1' },
    ]);
  });

  it('answers NO_SUCH_USER (404 over REST) for a kick of a nickname nobody online holds', async () => {
    const root = await admin();
    root.send('kick', { user: 'nobody' });
    await expect(root.next(isError('kick'))).resolves.toEqual({ type: 'error', code: 'NO_SUCH_USER', message: 'No user "nobody" is online', event: 'kick' });
    await expect(call(server, 'POST', '/api/admin/kick', ADMIN_TOKEN, { user: 'nobody' })).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'No user "nobody" is online' },
    });
  });

  it('bans the address of a nickname: its connections close with 4003 "banned", its handshakes get 403 until unbanned; ADMIN_TOKEN still gets in', async () => {
    const root = await admin();
    const bob = await guest();
    const carol = await guest();

    root.send('ban', { user: bob.nickname, reason: 'flood' });

    // Every test client comes from 127.0.0.1: bob's address is everyone's but the admin's connection is kept.
    await expect(root.nextOfType('moderation')).resolves.toEqual({ type: 'moderation', action: 'ban', user: bob.nickname, address: '127.0.0.1', until: null, closed: 2 });
    await expect(bob.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
    await expect(carol.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
    const refused = await refusedHandshake(server.wsUrl);
    expect(refused).toMatchObject({ status: 403, headers: { 'content-type': JSON_TYPE } });
    expect(refused.headers['retry-after']).toBeUndefined();
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', reason: 'banned', message: 'This address is banned until a moderator lifts the ban', until: null });
    await refusedHandshake(server.wsUrl);
    await admin(); // ADMIN_TOKEN on the handshake is never refused
    expect(root.socket.readyState).toBe(root.socket.OPEN);
    await expect(call(server, 'GET', '/api/admin/bans', ADMIN_TOKEN)).resolves.toEqual({
      status: 200,
      body: { bans: [{ kind: 'address', target: '127.0.0.1', until: null, reason: 'flood', actor: 'admin', at: expect.stringMatching(ISO) }] },
    });

    root.send('unban', { address: '127.0.0.1' });
    await expect(root.nextOfType('moderation')).resolves.toEqual({ type: 'moderation', action: 'unban', address: '127.0.0.1', lifted: true });
    await guest();
    await expect(call(server, 'POST', '/api/admin/unban', ADMIN_TOKEN, { address: '127.0.0.1' })).resolves.toEqual({
      status: 200,
      body: { action: 'unban', address: '127.0.0.1', lifted: false },
    });
    await expect(call(server, 'GET', '/api/admin/bans', ADMIN_TOKEN)).resolves.toEqual({ status: 200, body: { bans: [] } });
    // Two refused handshakes within a minute: one ban_refused row.
    await expect(auditRows(server)).resolves.toEqual([
      { actor: 'admin', action: 'ban', target: '127.0.0.1', room: null, reason: 'flood', address: '127.0.0.1' },
      { actor: null, action: 'ban_refused', target: '127.0.0.1', room: null, reason: null, address: '127.0.0.1' },
      { actor: 'admin', action: 'unban', target: '127.0.0.1', room: null, reason: null, address: '127.0.0.1' },
      { actor: 'admin', action: 'unban', target: '127.0.0.1', room: null, reason: null, address: '127.0.0.1' },
    ]);
    await expect(metric(server, 'chat_ban_refusals_total{kind="address"}')).resolves.toBe(2);
    await expect(metric(server, 'chat_moderation_actions_total{action="ban"}')).resolves.toBe(1);
    await expect(metric(server, 'chat_moderation_actions_total{action="unban"}')).resolves.toBe(2);
  });

  it('bans an address over REST for a while: 403 with Retry-After and the end, then handshakes are taken again', async () => {
    const res = await call(server, 'POST', '/api/admin/ban', ADMIN_TOKEN, { address: '::ffff:127.0.0.1', seconds: 1 });
    expect(res).toEqual({ status: 200, body: { action: 'ban', address: '127.0.0.1', until: expect.stringMatching(ISO), closed: 0 } });
    const until = (res.body as { until: string }).until;

    const refused = await refusedHandshake(server.wsUrl);
    expect(refused.status).toBe(403);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', reason: 'banned', message: `This address is banned until ${until}`, until });
    // REST from that address too, but not with ADMIN_TOKEN (the operator can always lift a ban).
    await expect(call(server, 'GET', '/api/rooms')).resolves.toEqual({ status: 403, body: refused.body });
    await expect(call(server, 'GET', '/api/rooms', ADMIN_TOKEN)).resolves.toMatchObject({ status: 200 });

    await sleep(Date.parse(until) - Date.now() + 50);
    await guest();
    await expect(call(server, 'GET', '/api/rooms')).resolves.toMatchObject({ status: 200 });
    await expect(call(server, 'GET', '/api/admin/bans', ADMIN_TOKEN)).resolves.toEqual({ status: 200, body: { bans: [] } });
  });

  it('mutes a nickname in one room: MUTED with the end on its messages there, other rooms unaffected, until it ends or is lifted', async () => {
    const root = await admin();
    const bob = await guest();
    bob.send('join', { room: 'eng' });
    await bob.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'eng');

    root.send('mute', { room: 'general', user: bob.nickname, seconds: 1, reason: 'shouting' });
    const muted = await root.nextOfType('moderation');
    expect(muted).toEqual({ type: 'moderation', action: 'mute', room: 'general', user: bob.nickname, until: expect.stringMatching(ISO) });
    const until = muted.until as string;

    bob.send('message', { message: 'LOUD', clientMsgId: 'm-1' });
    await expect(bob.next(isError('message'))).resolves.toEqual({
      type: 'error',
      code: 'MUTED',
      message: `You are muted in "general" until ${until}`,
      event: 'message',
      until,
      clientMsgId: 'm-1',
    });
    bob.send('message', { room: 'eng', message: 'still heard here' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ room: 'eng', message: 'still heard here' });
    await expect(call(server, 'GET', '/api/admin/mutes', ADMIN_TOKEN)).resolves.toEqual({
      status: 200,
      body: { mutes: [{ room: 'general', target: bob.nickname.toLowerCase(), until, reason: 'shouting', actor: 'admin', at: expect.stringMatching(ISO) }] },
    });

    await sleep(Date.parse(until) - Date.now() + 50);
    bob.send('message', { message: 'calm now' });
    await expect(bob.next((f) => f.type === 'message' && f.room === 'general')).resolves.toMatchObject({ message: 'calm now' });

    await expect(call(server, 'POST', '/api/admin/mute', ADMIN_TOKEN, { room: 'general', user: bob.nickname })).resolves.toEqual({
      status: 200,
      body: { action: 'mute', room: 'general', user: bob.nickname, until: null },
    });
    bob.send('message', { message: 'again?' });
    await expect(bob.next(isError('message'))).resolves.toMatchObject({ code: 'MUTED', until: null, message: 'You are muted in "general" until a moderator unmutes you' });
    await expect(call(server, 'POST', '/api/admin/unmute', ADMIN_TOKEN, { room: 'general', user: bob.nickname })).resolves.toEqual({
      status: 200,
      body: { action: 'unmute', room: 'general', user: bob.nickname, lifted: true },
    });
    bob.send('message', { message: 'free' });
    await expect(bob.next((f) => f.type === 'message' && f.message === 'free')).resolves.toMatchObject({ room: 'general' });

    root.send('unmute', { room: 'general', user: bob.nickname });
    await expect(root.nextOfType('moderation')).resolves.toEqual({ type: 'moderation', action: 'unmute', room: 'general', user: bob.nickname, lifted: false });
    const target = bob.nickname.toLowerCase();
    await expect(auditRows(server)).resolves.toEqual([
      { actor: 'admin', action: 'mute', target, room: 'general', reason: 'shouting', address: '127.0.0.1' },
      { actor: 'admin', action: 'mute', target, room: 'general', reason: null, address: '127.0.0.1' },
      { actor: 'admin', action: 'unmute', target, room: 'general', reason: null, address: '127.0.0.1' },
      { actor: 'admin', action: 'unmute', target, room: 'general', reason: null, address: '127.0.0.1' },
    ]);
  });

  it('puts a room in slow mode (admin): the room is told, a second message within the interval gets SLOW_MODE with retryAfterMs, the admin is not held to it', async () => {
    const root = await admin();
    const bob = await guest();
    const carol = await guest();

    root.send('slow_mode', { room: 'general', seconds: 60 });
    const settings = { type: 'room_settings', room: 'general', slowModeSeconds: 60, by: root.nickname };
    await expect(root.nextOfType('room_settings')).resolves.toEqual(settings);
    await expect(bob.nextOfType('room_settings')).resolves.toEqual(settings);

    bob.send('message', { message: 'one' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'one' });
    bob.send('message', { message: 'two', clientMsgId: 'c-2' });
    const slow = await bob.next(isError('message'));
    expect(slow).toEqual({
      type: 'error',
      code: 'SLOW_MODE',
      message: expect.stringMatching(/^"general" is in slow mode: one message every 60 s; wait (59|60) s$/),
      event: 'message',
      retryAfterMs: expect.any(Number),
      clientMsgId: 'c-2',
    });
    expect(slow.retryAfterMs).toBeGreaterThan(58_000);
    expect(slow.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Per connection: carol has her own interval.
    carol.send('message', { message: 'mine' });
    await expect(carol.next((f) => f.type === 'message' && f.message === 'mine')).resolves.toMatchObject({ room: 'general' });
    for (const message of ['a', 'b']) root.send('message', { message });
    await root.next((f) => f.type === 'message' && f.message === 'b');

    root.send('slow_mode', { room: 'general', seconds: 0 });
    await expect(bob.nextOfType('room_settings')).resolves.toEqual({ ...settings, slowModeSeconds: 0 });
    bob.send('message', { message: 'three' });
    await expect(bob.next((f) => f.type === 'message' && f.message === 'three')).resolves.toMatchObject({ room: 'general' });
    await expect(auditRows(server)).resolves.toEqual([
      { actor: 'admin', action: 'slow_mode', target: '60', room: 'general', reason: null, address: '127.0.0.1' },
      { actor: 'admin', action: 'slow_mode', target: '0', room: 'general', reason: null, address: '127.0.0.1' },
    ]);
  });

  it('tells an admin who is not in the room the new setting, and refuses more than an hour (VALIDATION)', async () => {
    const root = await admin();
    root.send('slow_mode', { room: 'elsewhere', seconds: 5 });
    await expect(root.nextOfType('room_settings')).resolves.toEqual({ type: 'room_settings', room: 'elsewhere', slowModeSeconds: 5, by: root.nickname });
    root.send('slow_mode', { room: 'general', seconds: 3601 });
    await expect(root.next(isError('slow_mode'))).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'seconds must not be greater than 3600',
      event: 'slow_mode',
    });
  });

  it('answers 400 for a bad body: both or neither of user and address, a bad address, a bad room, unknown fields; and a user unban (bans are by address here)', async () => {
    const bad = async (path: string, body: unknown, message: unknown) =>
      expect(call(server, 'POST', `/api/admin/${path}`, ADMIN_TOKEN, body)).resolves.toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message, ...(path === 'unban' ? {} : { parameters: expect.any(Array) }) },
      });
    await bad('ban', { user: 'bob', address: '203.0.113.9' }, 'give user or address, not both');
    await bad('ban', {}, 'user must be a user id or nickname of 1 to 255 characters, or give address instead');
    await bad('ban', { address: 'not-an-ip' }, 'address must be an ip address');
    await bad('ban', { address: '203.0.113.9', seconds: 0 }, 'seconds must not be less than 1');
    await bad('mute', { room: 'no spaces', user: 'bob' }, expect.stringMatching(/^room must be /));
    await bad('kick', { user: 'bob', extra: 1 }, 'property extra should not exist');
    await bad('unban', { user: 'bob' }, 'In anonymous mode bans are by address: give the address (GET /api/admin/bans lists them)');
    const root = await admin();
    root.send('ban', { user: 'bob', address: '203.0.113.9' });
    await expect(root.next(isError('ban'))).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: 'give user or address, not both', event: 'ban' });
  });
});

describe('moderation in jwt mode (e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];

  beforeEach(async () => {
    server = await startServer({ ...JWT_ENV, ADMIN_TOKEN });
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  async function connect(sub: string, roles: string[] = []): Promise<ChatClient> {
    const { client } = await signIn(server, sub, sub, roles);
    clients.push(client);
    return client;
  }

  const handshakeOf = async (sub: string) => ({ headers: { authorization: `Bearer ${await tokenFor(sub)}` } });

  it('refuses moderation to a user without the role admin: FORBIDDEN on the socket, 403 insufficient_role over REST', async () => {
    const bob = await connect('bob');
    await connect('carol');
    bob.send('kick', { user: 'carol' });
    await expect(bob.next(isError('kick'))).resolves.toEqual({ type: 'error', code: 'FORBIDDEN', message: 'Only admins can kick', event: 'kick' });
    bob.send('ban', { user: 'carol' });
    await expect(bob.next(isError('ban'))).resolves.toEqual({ type: 'error', code: 'FORBIDDEN', message: 'Only admins can ban', event: 'ban' });
    for (const path of ['kick', 'ban', 'unban', 'mute', 'unmute']) {
      await expect(call(server, 'POST', `/api/admin/${path}`, await tokenFor('bob'), { room: 'general', user: 'carol' })).resolves.toMatchObject({
        status: 403,
        body: { statusCode: 403, error: 'Forbidden', reason: 'insufficient_role' },
      });
    }
    await expect(call(server, 'GET', '/api/admin/bans', await tokenFor('bob'))).resolves.toMatchObject({ status: 403 });
  });

  it('kicks every connection of a user (two devices) with 4003 "kicked" when an admin by role asks', async () => {
    const root = await connect('root', ['admin']);
    const phone = await connect('bob');
    const laptop = await connect('bob');

    root.send('kick', { user: 'bob', reason: 'cool off' });

    await expect(root.nextOfType('moderation')).resolves.toEqual({ type: 'moderation', action: 'kick', user: 'bob', userId: 'bob', closed: 2 });
    await expect(phone.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    await expect(laptop.waitClosed()).resolves.toEqual({ code: 4003, reason: 'kicked' });
    root.send('kick', { user: 'bob' });
    await expect(root.next(isError('kick'))).resolves.toEqual({ type: 'error', code: 'NO_SUCH_USER', message: 'No user "bob" is online', event: 'kick' });
    await expect(auditRows(server)).resolves.toEqual([{ actor: 'root', action: 'kick', target: 'bob', room: null, reason: 'cool off', address: '127.0.0.1' }]);
  });

  it('bans a user through ADMIN_TOKEN on the handshake: both devices closed with 4003 "banned", its handshakes 403 after sign-in, others unaffected, until unbanned', async () => {
    const operator = await ChatClient.connect(server.wsUrl, { headers: AS_ADMIN });
    clients.push(operator);
    await expect(operator.nextOfType('welcome')).resolves.toMatchObject({ userId: '@admin', roles: ['admin'] });
    const phone = await connect('bob');
    const laptop = await connect('bob');

    operator.send('ban', { user: 'bob', seconds: 3600, reason: 'abuse' });

    const banned = await operator.nextOfType('moderation');
    expect(banned).toEqual({ type: 'moderation', action: 'ban', user: 'bob', userId: 'bob', until: expect.stringMatching(ISO), closed: 2 });
    await expect(phone.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
    await expect(laptop.waitClosed()).resolves.toEqual({ code: 4003, reason: 'banned' });
    const refused = await refusedHandshake(server.wsUrl, await handshakeOf('bob'));
    expect(refused.status).toBe(403);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3590);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', reason: 'banned', message: `This user is banned until ${String(banned.until)}`, until: banned.until });
    await connect('carol');
    // REST too: the same 403 on every /api route for bob, nothing for carol.
    const bobToken = await tokenFor('bob');
    await expect(call(server, 'GET', '/api/me', bobToken)).resolves.toEqual({ status: 403, body: refused.body });
    await expect(call(server, 'GET', '/api/messages?room=general', bobToken)).resolves.toMatchObject({ status: 403, body: { reason: 'banned' } });
    await expect(call(server, 'GET', '/api/me', await tokenFor('carol'))).resolves.toMatchObject({ status: 200 });
    // A bad token is still a 401: the ban is checked after authentication.
    await expect(refusedHandshake(server.wsUrl, { headers: { authorization: 'Bearer nope' } })).resolves.toMatchObject({ status: 401 });

    await expect(call(server, 'POST', '/api/admin/unban', await tokenFor('root', 'root', ['admin']), { user: 'bob' })).resolves.toEqual({
      status: 200,
      body: { action: 'unban', user: 'bob', userId: 'bob', lifted: true },
    });
    await connect('bob');
    await expect(call(server, 'GET', '/api/me', bobToken)).resolves.toMatchObject({ status: 200 });
    await expect(auditRows(server)).resolves.toEqual([
      { actor: '@admin', action: 'ban', target: 'bob', room: null, reason: 'abuse', address: '127.0.0.1' },
      { actor: 'bob', action: 'ban_refused', target: 'bob', room: null, reason: null, address: '127.0.0.1' },
      { actor: 'root', action: 'unban', target: 'bob', room: null, reason: null, address: '127.0.0.1' },
    ]);
    // One refused handshake and two refused REST requests; one ban_refused row for them (once a minute per ban and address).
    await expect(metric(server, 'chat_ban_refusals_total{kind="user"}')).resolves.toBe(3);
  });

  it('answers 404 for a ban or mute of a user who never signed in, and ends a ban after its duration', async () => {
    const admin = await tokenFor('root', 'root', ['admin']);
    await expect(call(server, 'POST', '/api/admin/ban', admin, { user: 'ghost' })).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'No user "ghost" has ever signed in' },
    });
    await expect(call(server, 'POST', '/api/admin/mute', ADMIN_TOKEN, { room: 'general', user: 'ghost' })).resolves.toMatchObject({ status: 404 });
    const bob = await connect('bob');
    await expect(call(server, 'POST', '/api/admin/ban', ADMIN_TOKEN, { user: 'bob', seconds: 1 })).resolves.toMatchObject({ status: 200, body: { closed: 1 } });
    await bob.waitClosed();
    await expect(refusedHandshake(server.wsUrl, await handshakeOf('bob'))).resolves.toMatchObject({ status: 403 });
    await sleep(1100);
    await connect('bob');
  });

  it('mutes a user in one room on every device: MUTED with the end; other rooms and users unaffected', async () => {
    const phone = await connect('bob');
    const laptop = await connect('bob');
    const carol = await connect('carol');
    phone.send('join', { room: 'eng' });
    await laptop.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'eng');

    const res = await call(server, 'POST', '/api/admin/mute', ADMIN_TOKEN, { room: 'general', user: 'bob', seconds: 600 });
    expect(res).toEqual({ status: 200, body: { action: 'mute', room: 'general', user: 'bob', userId: 'bob', until: expect.stringMatching(ISO) } });
    const until = (res.body as { until: string }).until;

    for (const device of [phone, laptop]) {
      device.send('message', { message: 'hello?' });
      await expect(device.next(isError('message'))).resolves.toEqual({ type: 'error', code: 'MUTED', message: `You are muted in "general" until ${until}`, event: 'message', until });
    }
    laptop.send('message', { room: 'eng', message: 'eng is fine' });
    await expect(phone.next((f) => f.type === 'message' && f.room === 'eng')).resolves.toMatchObject({ message: 'eng is fine' });
    carol.send('message', { message: 'carol is fine' });
    await expect(carol.next((f) => f.type === 'message' && f.room === 'general')).resolves.toMatchObject({ message: 'carol is fine' });
    await expect(auditRows(server)).resolves.toEqual([{ actor: '@admin', action: 'mute', target: 'bob', room: 'general', reason: null, address: '127.0.0.1' }]);
  });

  it("lets a room's owner and an admin set slow mode, FORBIDDEN for anyone else; one interval per user across devices; the owner is not held to it", async () => {
    const olga = await connect('olga');
    olga.send('create_room', { room: 'book-club', visibility: 'public' });
    await olga.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'book-club');
    const phone = await connect('bob');
    const laptop = await connect('bob');
    phone.send('join', { room: 'book-club' });
    await laptop.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'book-club' && f.userId === 'bob');

    phone.send('slow_mode', { room: 'book-club', seconds: 30 });
    await expect(phone.next(isError('slow_mode'))).resolves.toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'Only the owner of "book-club" or an admin can set its slow mode',
      event: 'slow_mode',
    });
    olga.send('slow_mode', { room: 'book-club', seconds: 30 });
    const settings = { type: 'room_settings', room: 'book-club', slowModeSeconds: 30, by: 'olga', byId: 'olga' };
    await expect(laptop.nextOfType('room_settings')).resolves.toEqual(settings);
    await expect(olga.nextOfType('room_settings')).resolves.toEqual(settings);

    phone.send('message', { room: 'book-club', message: 'first' });
    await expect(laptop.next((f) => f.type === 'message' && f.message === 'first')).resolves.toMatchObject({ userId: 'bob' });
    laptop.send('message', { room: 'book-club', message: 'second' });
    await expect(laptop.next(isError('message'))).resolves.toMatchObject({ code: 'SLOW_MODE', retryAfterMs: expect.any(Number) });
    for (const message of ['owner 1', 'owner 2']) olga.send('message', { room: 'book-club', message });
    await expect(olga.next((f) => f.type === 'message' && f.message === 'owner 2')).resolves.toMatchObject({ userId: 'olga' });

    const root = await connect('root', ['admin']);
    root.send('slow_mode', { room: 'book-club', seconds: 0 });
    await expect(laptop.nextOfType('room_settings')).resolves.toEqual({ ...settings, slowModeSeconds: 0, by: 'root', byId: 'root' });
    laptop.send('message', { room: 'book-club', message: 'third' });
    await expect(laptop.next((f) => f.type === 'message' && f.message === 'third')).resolves.toMatchObject({ userId: 'bob' });
    await expect(auditRows(server)).resolves.toEqual([
      { actor: 'olga', action: 'slow_mode', target: '30', room: 'book-club', reason: null, address: '127.0.0.1' },
      { actor: 'root', action: 'slow_mode', target: '0', room: 'book-club', reason: null, address: '127.0.0.1' },
    ]);
  });
});

describe('bans, mutes and slow mode across a restart (file database, e2e)', () => {
  let dir: string;
  let server: TestServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-moderation-'));
  });

  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps refusing a banned user, muting a muted one and slowing a slow room after a restart', async () => {
    const env = { ...JWT_ENV, ADMIN_TOKEN, SQLITE_PATH: join(dir, 'chat.sqlite') };
    server = await startServer(env);
    const { client } = await signIn(server, 'bob');
    await client.close();
    await (await signIn(server, 'carol')).client.close();
    await expect(call(server, 'POST', '/api/admin/ban', ADMIN_TOKEN, { user: 'bob' })).resolves.toMatchObject({ status: 200 });
    await expect(call(server, 'POST', '/api/admin/mute', ADMIN_TOKEN, { room: 'general', user: 'carol', seconds: 3600 })).resolves.toMatchObject({ status: 200 });
    const { client: operator } = await signIn(server, 'root', 'root', ['admin']);
    operator.send('slow_mode', { room: 'general', seconds: 60 });
    await operator.nextOfType('room_settings');
    await operator.close();
    await server.close();

    server = await startServer(env);
    await expect(refusedHandshake(server.wsUrl, { headers: { authorization: `Bearer ${await tokenFor('bob')}` } })).resolves.toMatchObject({
      status: 403,
      body: { reason: 'banned', until: null },
    });
    const { client: carol } = await signIn(server, 'carol');
    carol.send('message', { message: 'muted?' });
    await expect(carol.next(isError('message'))).resolves.toMatchObject({ code: 'MUTED', until: expect.stringMatching(ISO) });
    const { client: dave } = await signIn(server, 'dave');
    dave.send('message', { message: 'one' });
    await dave.nextOfType('message');
    dave.send('message', { message: 'two' });
    await expect(dave.next(isError('message'))).resolves.toMatchObject({ code: 'SLOW_MODE' });
    await expect(call(server, 'GET', '/api/admin/bans', ADMIN_TOKEN)).resolves.toMatchObject({ body: { bans: [{ kind: 'user', target: 'bob', actor: '@admin' }] } });
    await expect(auditRows(server)).resolves.toEqual([
      { actor: '@admin', action: 'ban', target: 'bob', room: null, reason: null, address: '127.0.0.1' },
      { actor: '@admin', action: 'mute', target: 'carol', room: 'general', reason: null, address: '127.0.0.1' },
      { actor: 'root', action: 'slow_mode', target: '60', room: 'general', reason: null, address: '127.0.0.1' },
      { actor: 'bob', action: 'ban_refused', target: 'bob', room: null, reason: null, address: '127.0.0.1' },
    ]);
    await Promise.all([carol.close(), dave.close()]);
  });
});

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
async function auditRows(server: TestServer): Promise<Array<Omit<AuditRecord, 'id' | 'at'>>> {
  const audit = server.app.get(AuditStore);
  await audit.drain();
  return (await audit.page({ limit: 100 })).reverse().map(({ id: _id, at: _at, ...row }) => row);
}

async function metric(server: TestServer, line: string): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
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

    await sleep(Date.parse(until) - Date.now() + 50);
    await guest();
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
    const bad = async (path: string, body: unknown, message: string) =>
      expect(call(server, 'POST', `/api/admin/${path}`, ADMIN_TOKEN, body)).resolves.toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message, ...(path === 'unban' && message.startsWith('In anonymous') ? {} : { parameters: expect.any(Array) }) },
      });
    await bad('ban', { user: 'bob', address: '203.0.113.9' }, 'give user or address, not both');
    await bad('ban', {}, 'user must be a user id or nickname of 1 to 255 characters, or give address instead');
    await bad('ban', { address: 'not-an-ip' }, 'address must be an ip address');
    await bad('ban', { address: '203.0.113.9', seconds: 0 }, 'seconds must not be less than 1');
    await bad('mute', { room: 'no spaces', user: 'bob' }, expect.stringMatching(/^room must be /) as unknown as string);
    await bad('kick', { user: 'bob', extra: 1 }, 'property extra should not exist');
    await bad('unban', { user: 'bob' }, 'In anonymous mode bans are by address: give the address (GET /api/admin/bans lists them)');
    const root = await admin();
    root.send('ban', { user: 'bob', address: '203.0.113.9' });
    await expect(root.next(isError('ban'))).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: 'give user or address, not both', event: 'ban' });
  });
});

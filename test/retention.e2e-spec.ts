import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, asAdmin, call, metric, say } from './support/admin';
import { ChatClient, type Frame } from './support/chat-client';
import { startServer, type TestServer } from './support/test-app';

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

interface AuditPage {
  entries: Array<{ actor: string | null; action: string; room: string | null; reason: string | null }>;
}

describe('retention (e2e)', () => {
  let dir: string;
  let dbPath: string;
  let server: TestServer;
  const clients: ChatClient[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-retention-'));
    dbPath = join(dir, 'chat.sqlite');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<void> {
    server = await startServer({ SQLITE_PATH: dbPath, ADMIN_TOKEN, ...env });
  }

  async function connect(): Promise<ChatClient> {
    const { client } = await ChatClient.join(server.wsUrl);
    clients.push(client);
    return client;
  }

  async function enter(client: ChatClient, room: string): Promise<void> {
    client.send('join', { room });
    await client.next((f) => f.type === 'notification' && f.event === 'join' && f.room === room && f.nickname === client.nickname);
  }

  /** Dates the stored messages with these ids `days` back, in the database file, as if they had been sent then. */
  function backdate(ids: number[], days: number): void {
    const db = new Database(dbPath);
    try {
      db.prepare(`UPDATE messages SET sent_at = ? WHERE id IN (${ids.map(() => '?').join(', ')})`).run(daysAgo(days), ...ids);
    } finally {
      db.close();
    }
  }

  function storedIds(): Array<{ id: number; room: string | null }> {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT id, room FROM messages ORDER BY id').all() as Array<{ id: number; room: string | null }>;
    } finally {
      db.close();
    }
  }

  async function restIds(room: string): Promise<number[]> {
    const { status, body } = await call(server, 'GET', `/api/messages?room=${room}`);
    expect(status).toBe(200);
    return (body as { messages: Array<{ id: number }> }).messages.map((m) => m.id);
  }

  async function auditRows(action: string): Promise<AuditPage['entries']> {
    return ((await asAdmin(server, 'GET', `/api/admin/audit?action=${action}`)).body as AuditPage).entries;
  }

  it('RETENTION_DAYS: a run deletes the older room messages and DMs; history, REST and resume start at the oldest kept, with a gap', async () => {
    await start({ RETENTION_DAYS: '30' });
    const alice = await connect();
    const bob = await connect();
    await enter(alice, 'random');
    const [g1, g2] = [await say(alice, 'general', 'old one'), await say(alice, 'general', 'old two')];
    const r1 = await say(alice, 'random', 'old random');
    alice.send('dm', { to: bob.nickname, message: 'old dm', clientMsgId: 'd-1' });
    const dm = (await alice.next((f) => f.type === 'ack' && f.clientMsgId === 'd-1')).id as number;
    const g3 = await say(alice, 'general', 'kept');
    backdate([g1, g2, r1, dm], 40);
    backdate([g3], 29);

    const run = await asAdmin(server, 'POST', '/api/admin/retention/run');
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ rooms: { general: 2, random: 1 }, roomMessages: 3, directMessages: 1, durationMs: expect.any(Number) });

    // Gone from the file itself, the rest kept.
    expect(storedIds()).toEqual([{ id: g3, room: 'general' }]);
    await expect(restIds('general')).resolves.toEqual([g3]);
    await expect(restIds('random')).resolves.toEqual([]);
    alice.send('history', { room: 'general' });
    const history = await alice.nextOfType('history');
    expect((history.messages as Frame[]).map((m) => m.id)).toEqual([g3]);

    // A client that had seen nothing (or only g1) resumes: a gap up to the oldest kept message.
    const resumer = await ChatClient.connect(`${server.wsUrl}?since=${g1}&rooms=general,random`);
    clients.push(resumer);
    await resumer.nextOfType('welcome');
    await expect(resumer.next()).resolves.toEqual({ type: 'gap', room: 'general', afterId: g1, beforeId: g3 });
    await expect(resumer.next()).resolves.toEqual({ type: 'gap', room: 'random', afterId: g1, beforeId: r1 + 1 });
    await expect(resumer.next()).resolves.toEqual(expect.objectContaining({ type: 'message', id: g3, message: 'kept' }));
    await expect(resumer.next()).resolves.toEqual({ type: 'resumed', lastId: g3 });
    // One that had seen every deleted message gets none.
    alice.send('resume', { since: g3 - 1, rooms: ['general'] });
    await expect(alice.next((f) => f.type === 'gap' || f.type === 'message' || f.type === 'resumed')).resolves.toEqual(
      expect.objectContaining({ type: 'message', id: g3 }),
    );

    await expect(metric(server, 'chat_retention_deleted_total{kind="room"}')).resolves.toBe(3);
    await expect(metric(server, 'chat_retention_deleted_total{kind="direct"}')).resolves.toBe(1);
    await expect(metric(server, 'chat_retention_runs_total{outcome="ok"}')).resolves.toBe(1);
    const [row] = await auditRows('retention_run');
    expect(row).toEqual(
      expect.objectContaining({
        actor: 'admin',
        action: 'retention_run',
        reason: expect.stringMatching(/^deleted 3 room message\(s\) \(general 2, random 1\) and 1 direct message\(s\) in \d+ ms; RETENTION_DAYS 30$/),
      }),
    );

    // The id sequence goes on above the deleted ids, and rooms keep their newest id.
    const next = await say(alice, 'random', 'new');
    expect(next).toBeGreaterThan(g3);
    const { rooms } = (await call(server, 'GET', '/api/rooms')).body as { rooms: Array<{ name: string; lastMessageId: number | null }> };
    expect(rooms.find((r) => r.name === 'general')).toEqual(expect.objectContaining({ lastMessageId: g3 }));
  });

  it("a room's own retention: set by an admin (audited), applied to that room only; null follows RETENTION_DAYS again (unset: keep)", async () => {
    await start();
    const alice = await connect();
    await enter(alice, 'random');
    const g1 = await say(alice, 'general', 'general, old');
    const r1 = await say(alice, 'random', 'random, old');
    backdate([g1, r1], 10);

    const set = await asAdmin(server, 'PUT', '/api/admin/rooms/random/retention', { days: 7 });
    expect(set).toEqual(expect.objectContaining({ status: 200, body: { room: 'random', days: 7 } }));
    const run = await asAdmin(server, 'POST', '/api/admin/retention/run');
    expect(run.body).toEqual({ rooms: { random: 1 }, roomMessages: 1, directMessages: 0, durationMs: expect.any(Number) });
    await expect(restIds('random')).resolves.toEqual([]);
    await expect(restIds('general')).resolves.toEqual([g1]);

    const r2 = await say(alice, 'random', 'random, old again');
    backdate([r2], 10);
    await expect(asAdmin(server, 'PUT', '/api/admin/rooms/random/retention', { days: null })).resolves.toEqual(
      expect.objectContaining({ status: 200, body: { room: 'random', days: null } }),
    );
    await asAdmin(server, 'POST', '/api/admin/retention/run');
    await expect(restIds('random')).resolves.toEqual([r2]);

    const rows = await auditRows('room_retention');
    expect(rows.map(({ actor, room, reason }) => ({ actor, room, reason }))).toEqual([
      { actor: 'admin', room: 'random', reason: 'follows RETENTION_DAYS' },
      { actor: 'admin', room: 'random', reason: '7 day(s)' },
    ]);
  });

  it('PUT /api/admin/rooms/:room/retention: 404 for an unknown room, 400 for a bad body, 401 without ADMIN_TOKEN', async () => {
    await start();
    const alice = await connect();
    await say(alice, 'general', 'hello');
    const unknown = await asAdmin(server, 'PUT', '/api/admin/rooms/nowhere/retention', { days: 7 });
    expect(unknown).toEqual(expect.objectContaining({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'No room "nowhere" is stored' } }));
    for (const [body, message] of [
      [{ days: 0 }, 'days must not be less than 1'],
      [{ days: 36_501 }, 'days must not be greater than 36500'],
      [{ days: '7' }, 'days must be an integer number'],
      [{}, 'days must be an integer number'],
      [{ days: 7, forever: true }, 'property forever should not exist'],
    ] as const) {
      const answer = await asAdmin(server, 'PUT', '/api/admin/rooms/general/retention', body);
      expect([body, answer.status, answer.body]).toEqual([body, 400, expect.objectContaining({ statusCode: 400, message })]);
    }
    await expect(call(server, 'PUT', '/api/admin/rooms/general/retention', { body: { days: 7 } })).resolves.toEqual(expect.objectContaining({ status: 401 }));
    await expect(call(server, 'POST', '/api/admin/retention/run')).resolves.toEqual(expect.objectContaining({ status: 401 }));
    await expect(auditRows('room_retention')).resolves.toEqual([]);
  });

  it('runs by itself every RETENTION_INTERVAL_MS, as the actor system', async () => {
    await start({ RETENTION_DAYS: '1', RETENTION_INTERVAL_MS: '1000' });
    const alice = await connect();
    const old = await say(alice, 'general', 'old');
    const kept = await say(alice, 'general', 'kept');
    backdate([old], 2);
    const deadline = Date.now() + 5000;
    while ((await metric(server, 'chat_retention_deleted_total{kind="room"}')) < 1) {
      if (Date.now() > deadline) throw new Error('no scheduled retention run within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(restIds('general')).resolves.toEqual([kept]);
    await expect(metric(server, 'chat_retention_last_run_seconds')).resolves.toBeGreaterThanOrEqual(0);
    const rows = await auditRows('retention_run');
    expect(rows.at(-1)).toEqual(expect.objectContaining({ actor: 'system', reason: expect.stringMatching(/^deleted 1 room message\(s\) \(general 1\)/) }));
  });
});

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, asAdmin, call, say } from './support/admin';
import { ChatClient, type Frame } from './support/chat-client';
import { JWT_ENV, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

interface AuditEntry {
  actor: string | null;
  action: string;
  target: string | null;
  reason: string | null;
}

describe('data-subject requests (e2e)', () => {
  let dir: string;
  let dbPath: string;
  let server: TestServer;
  const clients: ChatClient[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-subject-'));
    dbPath = join(dir, 'chat.sqlite');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every row of a table, read from the database file by another connection. */
  function fileRows(sql: string): Array<Record<string, unknown>> {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare(sql).all() as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  }

  const auditLog = async (): Promise<AuditEntry[]> => ((await asAdmin(server, 'GET', '/api/admin/audit')).body as { entries: AuditEntry[] }).entries;
  // The rows of the data-subject actions; the refusals of the tests' own unauthorised requests (auth_failed) are left out.
  const audit = async (): Promise<AuditEntry[]> => (await auditLog()).filter((row) => row.action !== 'auth_failed');

  describe('jwt mode', () => {
    let alice: ChatClient;
    let bob: ChatClient;
    const ids: Record<string, number> = {};

    beforeEach(async () => {
      server = await startServer({ ...JWT_ENV, SQLITE_PATH: dbPath, ADMIN_TOKEN });
      alice = (await signIn(server, 'u-alice', 'alice')).client;
      bob = (await signIn(server, 'u-bob', 'bob')).client;
      clients.push(alice, bob);
      alice.send('create_room', { room: 'plans', visibility: 'private' });
      await alice.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'plans');
      ids.mine = await say(alice, 'general', 'alice secret');
      ids.theirs = await say(bob, 'general', 'bob text');
      alice.send('dm', { to: 'u-bob', message: 'dm from alice', clientMsgId: 'd-1' });
      ids.sent = (await alice.next((f) => f.type === 'ack' && f.clientMsgId === 'd-1')).id as number;
      bob.send('dm', { to: 'u-alice', message: 'dm to alice', clientMsgId: 'd-2' });
      ids.received = (await bob.next((f) => f.type === 'ack' && f.clientMsgId === 'd-2')).id as number;
    });

    it('GET /api/admin/export: everything stored about the user, as JSON, to admins only, audited', async () => {
      await expect(call(server, 'GET', '/api/admin/export?user=u-alice')).resolves.toEqual(expect.objectContaining({ status: 401 }));
      await expect(call(server, 'GET', '/api/admin/export?user=u-alice', { token: await tokenFor('u-bob', 'bob') })).resolves.toEqual(
        expect.objectContaining({ status: 403 }),
      );
      const missing = await asAdmin(server, 'GET', '/api/admin/export');
      expect(missing).toEqual(expect.objectContaining({ status: 400, body: expect.objectContaining({ statusCode: 400, parameters: ['user'] }) }));

      const answer = await asAdmin(server, 'GET', '/api/admin/export?user=u-alice');
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe('application/json; charset=utf-8');
      expect(answer.body).toEqual({
        user: 'u-alice',
        mode: 'jwt',
        exportedAt: expect.any(String),
        account: expect.objectContaining({ id: 'u-alice', nickname: 'alice', roles: '[]' }),
        memberships: [
          { room: 'general', joinedAt: expect.any(String) },
          { room: 'plans', joinedAt: expect.any(String) },
        ],
        ownedRooms: [{ name: 'plans', visibility: 'private', createdAt: expect.any(String), retentionDays: null }],
        messages: [expect.objectContaining({ id: ids.mine, room: 'general', nickname: 'alice', body: 'alice secret', userId: 'u-alice' })],
        directMessages: [
          expect.objectContaining({ id: ids.sent, senderId: 'u-alice', recipientId: 'u-bob', body: 'dm from alice' }),
          expect.objectContaining({ id: ids.received, senderId: 'u-bob', recipientId: 'u-alice', body: 'dm to alice' }),
        ],
        // The export is audited before it is read, so it lists itself.
        audit: [expect.objectContaining({ actor: '@admin', action: 'export', target: 'u-alice', address: '127.0.0.1' })],
      });
      expect(answer.text).not.toContain('bob text');
      await expect(audit()).resolves.toEqual([expect.objectContaining({ actor: '@admin', action: 'export', target: 'u-alice' })]);
    });

    it('DELETE /api/admin/users/:user: tombstones in the file and in history, DMs both ways, audit rows anonymised, the account gone, connections closed 4003', async () => {
      await asAdmin(server, 'GET', '/api/admin/export?user=u-alice'); // an audit row about her
      await expect(call(server, 'DELETE', '/api/admin/users/u-alice')).resolves.toEqual(expect.objectContaining({ status: 401 }));
      await expect(call(server, 'DELETE', '/api/admin/users/u-alice', { token: await tokenFor('u-bob', 'bob') })).resolves.toEqual(
        expect.objectContaining({ status: 403 }),
      );

      const answer = await asAdmin(server, 'DELETE', '/api/admin/users/u-alice');
      expect(answer.status).toBe(200);
      const pseudonym = (answer.body as { pseudonym: string }).pseudonym;
      expect(pseudonym).toMatch(/^erased:[0-9a-f]{12}$/);
      expect(answer.body).toEqual({ pseudonym, messages: 1, directMessages: 2, auditRows: 1, account: 1, connections: 1 });
      await expect(alice.waitClosed()).resolves.toEqual({ code: 4003, reason: 'erased' });

      // The store itself: no text of hers, no id or name of hers; the rows stay as tombstones.
      const rows = fileRows('SELECT id, room, nickname, user_id, recipient, recipient_id, body, deleted_at FROM messages ORDER BY id');
      const text = JSON.stringify(rows);
      for (const gone of ['alice secret', 'dm from alice', 'dm to alice', 'u-alice', '"alice"']) expect(text).not.toContain(gone);
      expect(rows.filter((r) => [ids.mine, ids.sent, ids.received].includes(r.id as number))).toEqual([
        { id: ids.mine, room: 'general', nickname: pseudonym, user_id: pseudonym, recipient: null, recipient_id: null, body: '', deleted_at: expect.any(String) },
        { id: ids.sent, room: null, nickname: pseudonym, user_id: pseudonym, recipient: 'bob', recipient_id: 'u-bob', body: '', deleted_at: expect.any(String) },
        { id: ids.received, room: null, nickname: 'bob', user_id: 'u-bob', recipient: pseudonym, recipient_id: pseudonym, body: '', deleted_at: expect.any(String) },
      ]);
      expect(rows.find((r) => r.id === ids.theirs)).toEqual(expect.objectContaining({ body: 'bob text', deleted_at: null }));
      expect(fileRows("SELECT id FROM users WHERE id = 'u-alice'")).toEqual([]);
      expect(JSON.stringify(fileRows('SELECT actor, target, reason FROM audit_log'))).not.toContain('u-alice');

      // History (REST and the socket): the message keeps its place, without its text or author.
      const page = (await call(server, 'GET', '/api/messages?room=general', { token: await tokenFor('u-bob', 'bob') })).body as { messages: Frame[] };
      expect(page.messages.map((m) => m.id)).toEqual([ids.mine, ids.theirs]);
      expect(JSON.stringify(page.messages[0])).not.toMatch(/alice/);
      bob.send('history', { room: 'general' });
      const history = await bob.nextOfType('history');
      expect(JSON.stringify((history.messages as Frame[])[0])).not.toMatch(/alice/);

      await expect(audit()).resolves.toEqual([
        { id: expect.any(Number), at: expect.any(String), actor: '@admin', action: 'erase', target: pseudonym, room: null, address: '127.0.0.1', reason: expect.stringContaining('tombstoned 1 room message(s) and 2 direct message(s)') },
        expect.objectContaining({ actor: '@admin', action: 'export', target: pseudonym }),
      ]);
    });
  });

  describe('anonymous mode: the user is a nickname', () => {
    it('exports and erases the rows of exactly that nickname', async () => {
      server = await startServer({ SQLITE_PATH: dbPath, ADMIN_TOKEN });
      const { client: carol } = await ChatClient.join(server.wsUrl);
      const { client: dave } = await ChatClient.join(server.wsUrl);
      clients.push(carol, dave);
      carol.send('nick', { nickname: 'carol' });
      await carol.next((f) => f.type === 'nick_update' && f.nickname === 'carol');
      const mine = await say(carol, 'general', 'carol secret');
      await say(dave, 'general', 'dave text');

      const exported = await asAdmin(server, 'GET', '/api/admin/export?user=carol');
      expect(exported.body).toEqual(
        expect.objectContaining({ user: 'carol', mode: 'anonymous', account: null, memberships: [], ownedRooms: [], messages: [expect.objectContaining({ id: mine, body: 'carol secret' })] }),
      );

      const erased = await asAdmin(server, 'DELETE', '/api/admin/users/carol');
      expect(erased.body).toEqual({ pseudonym: expect.stringMatching(/^erased:/), messages: 1, directMessages: 0, auditRows: 1, account: 0, connections: 1 });
      await expect(carol.waitClosed()).resolves.toEqual({ code: 4003, reason: 'erased' });
      const text = JSON.stringify(fileRows('SELECT * FROM messages'));
      expect(text).not.toContain('carol');
      expect(text).toContain('dave text');
      const [erase] = await audit();
      expect(erase).toEqual(expect.objectContaining({ actor: 'admin', action: 'erase', target: (erased.body as { pseudonym: string }).pseudonym }));
    });

    it('answers 401 without ADMIN_TOKEN and 400 to a bad user', async () => {
      server = await startServer({ SQLITE_PATH: dbPath, ADMIN_TOKEN });
      await expect(call(server, 'DELETE', '/api/admin/users/carol')).resolves.toEqual(expect.objectContaining({ status: 401 }));
      await expect(call(server, 'GET', '/api/admin/export?user=carol')).resolves.toEqual(expect.objectContaining({ status: 401 }));
      const bad = { statusCode: 400, error: 'Bad Request', message: 'user must be a user id or nickname of 1 to 255 characters', parameters: ['user'] };
      await expect(asAdmin(server, 'DELETE', '/api/admin/users/%20%20')).resolves.toEqual(expect.objectContaining({ status: 400, body: bad }));
      await expect(asAdmin(server, 'GET', `/api/admin/export?user=${'x'.repeat(256)}`)).resolves.toEqual(expect.objectContaining({ status: 400, body: bad }));
      await expect(audit()).resolves.toEqual([]);
      expect((await auditLog()).map(({ action, reason, target }) => [action, reason, target])).toEqual([
        ['auth_failed', 'missing', '/api/admin/export'],
        ['auth_failed', 'missing', '/api/admin/users/:user'],
      ]);
    });
  });
});

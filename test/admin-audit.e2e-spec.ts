import { AuditStore } from '../src/store/audit-store.service';
import { ADMIN_TOKEN, asAdmin, call } from './support/admin';
import { JWT_ENV, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

interface AuditPage {
  entries: Array<{ id: number; actor: string | null; action: string; target: string | null }>;
  hasMore: boolean;
  nextBefore: number | null;
}

describe('GET /api/admin/audit (e2e)', () => {
  describe('anonymous mode, refusals', () => {
    it('answers 401 without a token and with a token that is not ADMIN_TOKEN, and logs each refusal as auth_failed', async () => {
      const server = await startServer({ ADMIN_TOKEN });
      try {
        const none = await call(server, 'GET', '/api/admin/audit');
        expect(none.status).toBe(401);
        expect(none.body).toEqual(expect.objectContaining({ statusCode: 401 }));
        await expect(call(server, 'GET', '/api/admin/audit', { token: 'not-the-admin-token-at-all' })).resolves.toEqual(expect.objectContaining({ status: 401 }));
        const page = (await asAdmin(server, 'GET', '/api/admin/audit')).body as AuditPage;
        expect(page.entries.map(({ actor, action, target }) => [actor, action, target])).toEqual([
          [null, 'auth_failed', '/api/admin/audit'],
          [null, 'auth_failed', '/api/admin/audit'],
        ]);
      } finally {
        await server.close();
      }
    });
  });

  describe('anonymous mode', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ADMIN_TOKEN });
      const audit = server.app.get(AuditStore);
      // Six rows: alice kicks t0, bob mutes t1, alice kicks t2, …
      for (let i = 0; i < 6; i++) await audit.record({ actor: i % 2 ? 'bob' : 'alice', action: i % 2 ? 'mute' : 'kick', target: `t${i}`, address: '10.0.0.1' });
    });

    afterAll(() => server.close());

    it('lists the rows newest first with every column, to ADMIN_TOKEN', async () => {
      const { status, body } = await asAdmin(server, 'GET', '/api/admin/audit');
      expect(status).toBe(200);
      const page = body as AuditPage;
      expect(page.entries.map((e) => e.target)).toEqual(['t5', 't4', 't3', 't2', 't1', 't0']);
      expect(page.entries[0]).toEqual({
        id: expect.any(Number),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        actor: 'bob',
        action: 'mute',
        target: 't5',
        room: null,
        reason: null,
        address: '10.0.0.1',
      });
      expect(page.hasMore).toBe(false);
      expect(page.nextBefore).toBeNull();
    });

    it('pages with limit and nextBefore until hasMore is false', async () => {
      const seen: string[] = [];
      let before: number | null = null;
      let pages = 0;
      do {
        const answer = await asAdmin(server, 'GET', `/api/admin/audit?limit=4${before === null ? '' : `&before=${before}`}`);
        expect(answer.status).toBe(200);
        const page = answer.body as AuditPage;
        seen.push(...page.entries.map((e) => e.target as string));
        expect(page.hasMore).toBe(pages === 0);
        before = page.nextBefore;
        pages++;
      } while (before !== null);
      expect(pages).toBe(2);
      expect(seen).toEqual(['t5', 't4', 't3', 't2', 't1', 't0']);
    });

    it('filters by actor and by action, together and with paging', async () => {
      const byActor = (await asAdmin(server, 'GET', '/api/admin/audit?actor=alice')).body as AuditPage;
      expect(byActor.entries.map((e) => e.target)).toEqual(['t4', 't2', 't0']);
      const byAction = (await asAdmin(server, 'GET', '/api/admin/audit?action=mute')).body as AuditPage;
      expect(byAction.entries.map((e) => e.target)).toEqual(['t5', 't3', 't1']);
      const both = (await asAdmin(server, 'GET', '/api/admin/audit?action=kick&actor=alice&limit=2')).body as AuditPage;
      expect(both.entries.map((e) => e.target)).toEqual(['t4', 't2']);
      const rest = (await asAdmin(server, 'GET', `/api/admin/audit?action=kick&actor=alice&limit=2&before=${both.nextBefore}`)).body as AuditPage;
      expect(rest).toEqual({ entries: [expect.objectContaining({ target: 't0' })], hasMore: false, nextBefore: null });
      const none = (await asAdmin(server, 'GET', '/api/admin/audit?action=erase')).body as AuditPage;
      expect(none).toEqual({ entries: [], hasMore: false, nextBefore: null });
    });

    it.each([
      ['limit=0', 'limit must not be less than 1', 'limit'],
      ['limit=1001', 'limit must not be greater than 1000', 'limit'],
      ['limit=ten', 'limit must be an integer number', 'limit'],
      ['before=0', 'before must not be less than 1', 'before'],
      ['action=rename', `action must be one of the following values: auth_failed, ban_refused, edit, delete, kick, ban, unban, mute, unmute, slow_mode, room_retention, retention_run, export, erase`, 'action'],
      ['actor=', 'actor must be longer than or equal to 1 characters', 'actor'],
      ['page=2', 'property page should not exist', 'page'],
    ])('answers 400 to ?%s', async (query, message, parameter) => {
      const { status, body } = await asAdmin(server, 'GET', `/api/admin/audit?${query}`);
      expect(status).toBe(400);
      expect(body).toEqual({ statusCode: 400, error: 'Bad Request', message, parameters: [parameter] });
    });

    it('has no route that edits or deletes the log: PATCH, PUT, POST and DELETE are 404, and the rows stay', async () => {
      const { entries } = (await asAdmin(server, 'GET', '/api/admin/audit')).body as AuditPage;
      for (const method of ['PATCH', 'PUT', 'POST', 'DELETE']) {
        for (const path of ['/api/admin/audit', `/api/admin/audit/${entries[0].id}`]) {
          const answer = await asAdmin(server, method, path, method === 'DELETE' ? undefined : { actor: 'x' });
          expect([method, path, answer.status]).toEqual([method, path, 404]);
        }
      }
      await expect(asAdmin(server, 'GET', '/api/admin/audit')).resolves.toEqual(expect.objectContaining({ body: expect.objectContaining({ entries }) }));
    });
  });

  describe('jwt mode', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer({ ...JWT_ENV, ADMIN_TOKEN });
    });

    afterAll(() => server.close());

    it('answers 401 without a token, 403 to a user without the role admin, 200 to one with it and to ADMIN_TOKEN', async () => {
      await expect(call(server, 'GET', '/api/admin/audit')).resolves.toEqual(expect.objectContaining({ status: 401 }));
      const user = await call(server, 'GET', '/api/admin/audit', { token: await tokenFor('u-1') });
      expect(user.status).toBe(403);
      expect(user.body).toEqual(expect.objectContaining({ statusCode: 403 }));
      await expect(call(server, 'GET', '/api/admin/audit', { token: await tokenFor('u-2', 'Root', ['admin']) })).resolves.toEqual(
        expect.objectContaining({ status: 200 }),
      );
      await expect(asAdmin(server, 'GET', '/api/admin/audit')).resolves.toEqual(expect.objectContaining({ status: 200 }));
    });
  });
});

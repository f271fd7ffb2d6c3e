import { ChatClient } from './support/chat-client';
import { getJson, startServer, type TestServer } from './support/test-app';

const MAX = Number.MAX_SAFE_INTEGER; // 9007199254740991
const TOO_BIG = '9007199254740992';

interface Page {
  messages: Array<{ id: number; message: string }>;
  hasMore: boolean;
}

/**
 * Paging and resume parameters: one rule for every id and count, an integer from its minimum to
 * Number.MAX_SAFE_INTEGER, sent as a JSON number or as decimal text, with the same error text.
 */
describe('paging parameters (e2e)', () => {
  let server: TestServer;
  let alice: ChatClient;

  beforeAll(async () => {
    server = await startServer();
    alice = (await ChatClient.join(server.wsUrl)).client;
    for (const text of ['first', 'second', 'third']) alice.send('message', { message: text });
    await alice.collect('message', 3);
  });

  afterAll(async () => {
    await alice.close();
    await server.close();
  });

  /** The next frame answering `event`: its reply of `type`, or an error. */
  async function ask(event: string, data: unknown, type: string): Promise<Record<string, unknown>> {
    alice.send(event, data);
    return alice.next((f) => f.type === type || (f.type === 'error' && f.event === event));
  }

  describe('after=0, from the very first message', () => {
    it('history with after 0 returns the oldest messages, id 1 first', async () => {
      const frame = await ask('history', { after: 0, limit: 2 }, 'history');
      expect(frame).toMatchObject({ type: 'history', room: 'general', hasMore: true });
      expect((frame as unknown as Page).messages.map((m) => [m.id, m.message])).toEqual([
        [1, 'first'],
        [2, 'second'],
      ]);
    });

    it('history with after "0" (decimal text) does the same', async () => {
      const frame = await ask('history', { after: '0' }, 'history');
      expect((frame as unknown as Page).messages.map((m) => m.id)).toEqual([1, 2, 3]);
      expect(frame.hasMore).toBe(false);
    });

    it('GET /api/messages?after=0 returns id 1 onwards', async () => {
      const res = await getJson(`${server.httpUrl}/api/messages?after=0&limit=2`);
      expect(res.status).toBe(200);
      expect((res.body as Page).messages.map((m) => [m.id, m.message])).toEqual([
        [1, 'first'],
        [2, 'second'],
      ]);
      expect((res.body as Page).hasMore).toBe(true);
    });

    it('GET /api/messages?after=0&before=3 returns ids 1 and 2', async () => {
      const res = await getJson(`${server.httpUrl}/api/messages?after=0&before=3`);
      expect((res.body as Page).messages.map((m) => m.id)).toEqual([1, 2]);
    });
  });

  describe('the largest id is Number.MAX_SAFE_INTEGER, as a number or as text', () => {
    it.each([MAX, String(MAX)])('history accepts before %j', async (before) => {
      const frame = await ask('history', { before, limit: 1 }, 'history');
      expect((frame as unknown as Page).messages.map((m) => m.id)).toEqual([3]);
    });

    it.each([
      ['a number one above', MAX + 1],
      ['decimal text one above', TOO_BIG],
      ['1e20', 1e20],
      ['twenty digits of text', '100000000000000000000'],
    ])('history rejects before as %s, with one error text', async (_label, before) => {
      await expect(ask('history', { before }, 'history')).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message: `before must not be greater than ${MAX}`,
        event: 'history',
      });
    });

    it.each([
      ['after', '-1', 'after must not be less than 0'],
      ['after', TOO_BIG, `after must not be greater than ${MAX}`],
      ['before', '0', 'before must not be less than 1'],
      ['before', TOO_BIG, `before must not be greater than ${MAX}`],
      ['limit', '201', 'limit must not be greater than 200'],
    ])('GET /api/messages?%s=%s is a 400 with the same text as the socket', async (parameter, value, message) => {
      const res = await getJson(`${server.httpUrl}/api/messages?${parameter}=${value}`);
      expect(res).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message, parameters: [parameter] } });
      await expect(ask('history', { [parameter]: Number(value) }, 'history')).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message,
        event: 'history',
      });
    });
  });

  describe('resume since', () => {
    it.each([
      ['1e20', 1e20],
      ['one above the largest id', MAX + 1],
      ['that as decimal text', TOO_BIG],
      ['twenty digits of text', '100000000000000000000'],
    ])('the resume event rejects since %s', async (_label, since) => {
      await expect(ask('resume', { since }, 'resumed')).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message: `since must not be greater than ${MAX}`,
        event: 'resume',
      });
    });

    it.each([MAX, String(MAX)])('the resume event accepts since %j, replaying nothing', async (since) => {
      await expect(ask('resume', { since }, 'resumed')).resolves.toEqual({ type: 'resumed', lastId: MAX });
    });

    it('the resume event accepts since 0, replaying everything', async () => {
      alice.send('resume', { since: 0 });
      const replayed = await alice.collect((f) => f.type === 'message' && f.id === 3, 2); // the live copy and the replayed one
      expect(replayed).toHaveLength(2);
      await expect(alice.nextOfType('resumed')).resolves.toEqual({ type: 'resumed', lastId: 3 });
    });

    it.each([
      ['100000000000000000000', `since must not be greater than ${MAX}`],
      [TOO_BIG, `since must not be greater than ${MAX}`],
      ['-1', 'since must not be less than 0'],
      ['1e3', 'since must be an integer number'],
    ])('the connection URL rejects ?since=%s with the same text as the event', async (since, message) => {
      const client = await ChatClient.connect(`${server.wsUrl}?since=${since}`);
      try {
        await expect(client.next()).resolves.toMatchObject({ type: 'welcome' });
        await expect(client.next()).resolves.toEqual({ type: 'error', code: 'VALIDATION', message, event: 'resume' });
        await expect(client.next()).resolves.toMatchObject({ type: 'history', room: 'general' });
      } finally {
        await client.close();
      }
    });

    it('the connection URL accepts ?since= with more than 16 digits when the value is small enough', async () => {
      const client = await ChatClient.connect(`${server.wsUrl}?since=00000000000000000002`);
      try {
        await expect(client.next()).resolves.toMatchObject({ type: 'welcome' });
        await expect(client.next()).resolves.toMatchObject({ type: 'message', id: 3 });
        await expect(client.next()).resolves.toEqual({ type: 'resumed', lastId: 3 });
      } finally {
        await client.close();
      }
    });
  });
});

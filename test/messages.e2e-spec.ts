import { ChatClient, type Frame } from './support/chat-client';
import { getJson, startServer, type TestServer } from './support/test-app';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('messages (e2e)', () => {
  let server: TestServer;
  const clients: ChatClient[] = [];
  const join = async () => {
    const { client } = await ChatClient.join(server.wsUrl);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  it('broadcasts a stored message to everyone, the sender included, with its persisted id', async () => {
    const alice = await join();
    const bob = await join();

    alice.send('message', { message: 'hi <b>there</b> & "you"', clientMsgId: 'c-1' });

    const expected = {
      type: 'message',
      id: 1,
      room: 'general',
      nickname: 'Guest1',
      message: 'hi <b>there</b> & "you"',
      sentAt: expect.stringMatching(ISO),
      clientMsgId: 'c-1',
    };
    await expect(alice.nextOfType('message')).resolves.toEqual(expected);
    await expect(bob.nextOfType('message')).resolves.toEqual(expected);
    const stored = await getJson(`${server.httpUrl}/api/messages`);
    expect((stored.body as { messages: Frame[] }).messages).toEqual([expected]);
  });

  it('omits clientMsgId when the sender gave none', async () => {
    const alice = await join();
    alice.send('message', { message: 'no id' });
    const frame = await alice.nextOfType('message');
    expect(Object.keys(frame)).toEqual(['type', 'id', 'room', 'nickname', 'message', 'sentAt']);
  });

  it('treats a text frame that does not start with "{" as a chat message', async () => {
    const alice = await join();
    const bob = await join();

    alice.sendRaw('hello, classic client');
    alice.sendRaw(' {"event":"nick"} leading space is text');

    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'hello, classic client', nickname: 'Guest1' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: ' {"event":"nick"} leading space is text' });
  });

  it('accepts 4000 code points of astral characters and keeps them verbatim', async () => {
    const alice = await join();
    const text = '😀'.repeat(4000);
    alice.send('message', { message: text });
    await expect(alice.nextOfType('message')).resolves.toMatchObject({ message: text });
  });

  it('keeps one client\'s burst in the order it was sent', async () => {
    const alice = await join();
    const bob = await join();
    for (let i = 0; i < 200; i++) {
      if (i % 50 === 25) alice.send('nick', { nickname: `alice${i}` });
      alice.send('message', { message: `n${i}` });
    }
    const received = await bob.collect('message', 200);
    expect(received.map((f) => f.message)).toEqual(Array.from({ length: 200 }, (_, i) => `n${i}`));
    expect(received[25].nickname).toBe('alice25');
    expect(received[24].nickname).toBe('Guest1');
  });

  it('shows 32 concurrent clients the same messages in the same increasing id order', async () => {
    const crowd = await Promise.all(Array.from({ length: 32 }, () => ChatClient.connect(server.wsUrl)));
    clients.push(...crowd);
    await Promise.all(crowd.map((c) => c.collect('notification', 1)));
    const perClient = 10;

    crowd.forEach((c, i) => {
      for (let n = 0; n < perClient; n++) c.send('message', { message: `c${i}-${n}` });
    });

    const total = crowd.length * perClient;
    const streams = await Promise.all(crowd.map((c) => c.collect('message', total, 15000)));
    const reference = streams[0].map((f) => f.id as number);
    expect(new Set(reference).size).toBe(total);
    expect(reference).toEqual([...reference].sort((a, b) => a - b));
    for (const stream of streams) {
      expect(stream.map((f) => f.id)).toEqual(reference);
    }
    const stored = await getJson(`${server.httpUrl}/api/messages?limit=200`);
    expect((stored.body as { messages: Frame[] }).messages.map((m) => m.id)).toEqual(reference.slice(-200));
  });

  describe('history paging', () => {
    let ids: number[];

    beforeEach(async () => {
      const writer = await join();
      for (let i = 1; i <= 12; i++) writer.send('message', { message: `h${i}` });
      ids = (await writer.collect('message', 12)).map((f) => f.id as number);
    });

    it('pages backwards over WebSocket with before and limit', async () => {
      const reader = await join();
      reader.send('history', { before: ids[10], limit: 4 });
      const page = await reader.nextOfType('history');
      expect(page).toEqual({
        type: 'history',
        room: 'general',
        messages: ids.slice(6, 10).map((id, i): unknown => expect.objectContaining({ id, message: `h${i + 7}` })),
        hasMore: true,
      });
      reader.send('history', { before: ids[2], limit: 4 });
      await expect(reader.nextOfType('history')).resolves.toMatchObject({ hasMore: false, messages: [{ id: ids[0] }, { id: ids[1] }] });
    });

    it('pages forwards over WebSocket with after', async () => {
      const reader = await join();
      reader.send('history', { after: ids[8] });
      await expect(reader.nextOfType('history')).resolves.toMatchObject({
        hasMore: false,
        messages: [{ id: ids[9] }, { id: ids[10] }, { id: ids[11] }],
      });
      reader.send('history', { after: ids[0], before: ids[5], limit: 2 });
      await expect(reader.nextOfType('history')).resolves.toMatchObject({
        hasMore: true,
        messages: [{ id: ids[1] }, { id: ids[2] }],
      });
    });

    it('pages over REST with the same rules', async () => {
      const newest = await getJson(`${server.httpUrl}/api/messages?limit=5`);
      expect(newest.status).toBe(200);
      expect(newest.body).toEqual({
        messages: ids.slice(7).map((id): unknown => expect.objectContaining({ id, type: 'message', room: 'general' })),
        hasMore: true,
      });
      const older = await getJson(`${server.httpUrl}/api/messages?limit=5&before=${ids[7]}&room=general`);
      expect(older.body).toMatchObject({ hasMore: true, messages: ids.slice(2, 7).map((id) => ({ id })) });
      const forward = await getJson(`${server.httpUrl}/api/messages?after=${ids[9]}`);
      expect(forward.body).toMatchObject({ hasMore: false, messages: [{ id: ids[10] }, { id: ids[11] }] });
      const otherRoom = await getJson(`${server.httpUrl}/api/messages?room=elsewhere`);
      expect(otherRoom.body).toEqual({ messages: [], hasMore: false });
    });

    it.each([
      ['limit=0', 'limit must not be less than 1', ['limit']],
      ['limit=201&before=0', 'before must not be less than 1; limit must not be greater than 200', ['before', 'limit']],
      ['limit=5&limit=6', 'limit must be an integer number', ['limit']],
      ['sort=desc', 'property sort should not exist', ['sort']],
    ])('answers ?%s with a JSON 400 naming each bad parameter', async (query, message, parameters) => {
      const res = await fetch(`${server.httpUrl}/api/messages?${query}`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      await expect(res.json()).resolves.toEqual({ statusCode: 400, error: 'Bad Request', message, parameters });
    });

    it('answers an unknown API path with a JSON 404', async () => {
      await expect(getJson(`${server.httpUrl}/api/messages/nope`)).resolves.toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/messages/nope' },
      });
    });
  });
});

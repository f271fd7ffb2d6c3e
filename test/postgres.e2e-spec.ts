import { readyInfo } from '../src/app.setup';
import { dropTestSchema, testSchemaName } from '../src/database/postgres-schema-fixture';
import { ChatClient, type Frame } from './support/chat-client';
import { claims, mintHs256, TEST_SECRET } from './support/jwt';
import { describeWithPostgres, TEST_POSTGRES_URL } from './support/services';
import { getJson, startServer, type TestServer } from './support/test-app';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// The core flows of the real app with DATABASE_URL: the PostgreSQL store behind the same protocol.
describeWithPostgres('the PostgreSQL store (e2e)', () => {
  const url = TEST_POSTGRES_URL!;
  let schema: string;
  let server: TestServer;
  const clients: ChatClient[] = [];

  const start = async (env: Parameters<typeof startServer>[0] = {}) => {
    server = await startServer({ DATABASE_URL: url, DATABASE_SCHEMA: schema, ...env });
  };
  const join = async (): Promise<ChatClient> => {
    const { client } = await ChatClient.join(server.wsUrl);
    clients.push(client);
    return client;
  };
  const post = async (client: ChatClient, message: string, clientMsgId: string): Promise<number> => {
    client.send('message', { message, clientMsgId });
    const ack = await client.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
    return ack.id as number;
  };
  const rest = async (query = ''): Promise<Frame[]> => {
    const { status, body } = await getJson(`${server.httpUrl}/api/messages${query}`);
    expect(status).toBe(200);
    return (body as { messages: Frame[] }).messages;
  };

  beforeEach(() => {
    schema = testSchemaName();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    await dropTestSchema(url, schema);
  });

  it('creates its schema, stores and broadcasts a message with its id, and serves it over REST and in the next history', async () => {
    await start();
    const alice = await join();
    const bob = await join();

    alice.send('message', { message: 'hi from PostgreSQL', clientMsgId: 'c-1' });

    const expected = { type: 'message', id: 1, room: 'general', nickname: 'Guest1', message: 'hi from PostgreSQL', sentAt: expect.stringMatching(ISO), clientMsgId: 'c-1' };
    await expect(bob.nextOfType('message')).resolves.toEqual(expected);
    await expect(alice.nextOfType('ack')).resolves.toEqual({ type: 'ack', clientMsgId: 'c-1', id: 1, room: 'general' });
    await expect(rest()).resolves.toEqual([expected]);
    const carol = await ChatClient.connect(server.wsUrl);
    clients.push(carol);
    await expect(carol.nextOfType('history')).resolves.toEqual({ type: 'history', room: 'general', messages: [expected], hasMore: false });
    await expect(getJson(`${server.httpUrl}/health/ready`)).resolves.toMatchObject({ status: 200, body: { info: { database: { status: 'up' } } } });
    // The ready banner names the database without DATABASE_URL's credentials.
    const { host, pathname } = new URL(url);
    expect(readyInfo(server.app, 'anonymous').database).toBe(`PostgreSQL ${host}${pathname} schema ${schema}`);
  });

  it('answers a resend with the original id and stores it once', async () => {
    await start();
    const alice = await join();
    const first = await post(alice, 'once', 'same');
    alice.send('message', { message: 'once', clientMsgId: 'same' });
    await expect(alice.next((f) => f.type === 'ack' && f.clientMsgId === 'same')).resolves.toEqual({ type: 'ack', clientMsgId: 'same', id: first, room: 'general' });
    expect((await rest()).map((m) => m.id)).toEqual([first]);
  });

  it('pages history by keyset, over the socket and REST', async () => {
    await start();
    const alice = await join();
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await post(alice, `m${i}`, `p${i}`));

    alice.send('history', { before: ids[3], limit: 2 });
    const page = await alice.nextOfType('history');
    expect(page).toMatchObject({ room: 'general', hasMore: true });
    expect((page.messages as Frame[]).map((m) => m.message)).toEqual(['m2', 'm3']);
    alice.send('history', { after: ids[2], limit: 10 });
    expect(((await alice.nextOfType('history')).messages as Frame[]).map((m) => m.message)).toEqual(['m4', 'm5']);
    expect((await rest(`?before=${ids[1]}`)).map((m) => m.message)).toEqual(['m1']);
  });

  it('edits and deletes, and a resume from `since` replays the messages and the changes it missed', async () => {
    await start();
    const alice = await join();
    const kept = await post(alice, 'helo', 'e1');
    const gone = await post(alice, 'secret', 'e2');
    alice.send('edit', { id: kept, message: 'hello' });
    await alice.nextOfType('message_edited');
    const later = await post(alice, 'later', 'e3');
    alice.send('delete', { id: gone });
    await alice.nextOfType('message_deleted');

    await expect(rest()).resolves.toEqual([
      expect.objectContaining({ id: kept, message: 'hello', editedAt: expect.stringMatching(ISO) }),
      { type: 'message', id: gone, room: 'general', deleted: true },
      expect.objectContaining({ id: later, message: 'later' }),
    ]);
    const resumed = await ChatClient.connect(`${server.wsUrl}?since=${gone}&rooms=general`);
    clients.push(resumed);
    await resumed.nextOfType('resumed');
    const frames = resumed.frames.map((f) => [f.type, f.id]);
    expect(frames).toContainEqual(['message', later]);
    expect(frames).toContainEqual(['message_deleted', gone]);
    expect(frames).not.toContainEqual(['message', kept]);
  });

  it('stores a DM to a user who is away (jwt mode) and delivers it at their next connect', async () => {
    await start({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET });
    const signIn = async (sub: string): Promise<ChatClient> => {
      const token = await mintHs256(claims({ sub, preferred_username: sub, roles: [] }));
      const client = await ChatClient.connect(server.wsUrl, { headers: { authorization: `Bearer ${token}` } });
      clients.push(client);
      await client.nextOfType('welcome');
      return client;
    };
    await (await signIn('bob')).close();
    const alice = await signIn('alice');
    alice.send('dm', { to: 'bob', message: 'while you were away', clientMsgId: 'd-1' });
    const ack = await alice.nextOfType('ack');
    expect(ack).toMatchObject({ clientMsgId: 'd-1', toId: 'bob', id: expect.any(Number) });

    const bob = await signIn('bob');
    await expect(bob.nextOfType('direct')).resolves.toMatchObject({ id: ack.id, from: 'alice', to: 'bob', message: 'while you were away' });
  });

  it('answers ids beyond PostgreSQL integer as SQLite does: nothing after them, NOT_FOUND for one to edit', async () => {
    await start();
    const alice = await join();
    const id = await post(alice, 'only', 'x1');
    const huge = Number.MAX_SAFE_INTEGER;

    alice.send('history', { after: huge });
    await expect(alice.nextOfType('history')).resolves.toMatchObject({ messages: [], hasMore: false });
    alice.send('history', { before: huge });
    await expect(alice.nextOfType('history')).resolves.toMatchObject({ messages: [expect.objectContaining({ id })] });
    alice.send('edit', { id: huge, message: 'no such' });
    await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'NOT_FOUND', event: 'edit' });
    const resumed = await ChatClient.connect(`${server.wsUrl}?since=${huge}&rooms=general`);
    clients.push(resumed);
    await expect(resumed.nextOfType('resumed')).resolves.toEqual({ type: 'resumed', lastId: huge });
  });
});


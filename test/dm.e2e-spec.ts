import { ChatClient, type Frame } from './support/chat-client';
import { claims, mintHs256, TEST_SECRET } from './support/jwt';
import { startServer, type TestServer } from './support/test-app';

const tokenFor = (sub: string, name = sub, roles: string[] = []): Promise<string> => mintHs256(claims({ sub, preferred_username: name, roles }));

/** A REST call as user `sub` (no token when undefined): status and JSON body. */
async function getAs(server: TestServer, path: string, sub?: string, roles?: string[]): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = sub === undefined ? {} : { authorization: `Bearer ${await tokenFor(sub, sub, roles)}` };
  const res = await fetch(`${server.httpUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

const directs = (client: ChatClient): Frame[] => client.frames.filter((f) => f.type === 'direct');

// Direct messages that wait for you (AUTH_MODE=jwt, issue 12): real tokens, real sockets.
describe('direct messages between signed-in users (e2e)', () => {
  let server: TestServer;
  const open: ChatClient[] = [];

  /**
   * A connection of user `sub` named `name`, past its connect sequence: a `who` sent at once is
   * answered only after it (frames sent while connecting are handled once it is over).
   */
  async function signIn(sub: string, name = sub, query = ''): Promise<ChatClient> {
    const client = await ChatClient.connect(`${server.wsUrl}${query}`, { headers: { authorization: `Bearer ${await tokenFor(sub, name)}` } });
    open.push(client);
    await client.nextOfType('welcome');
    client.send('who', { room: 'general' });
    await client.nextOfType('presence');
    return client;
  }

  /** A user who signed in once and is away now. */
  async function away(sub: string, name = sub): Promise<void> {
    await (await signIn(sub, name)).close();
  }

  /** Sends a dm with a clientMsgId as `client` and returns its ack and its own copy of the direct frame. */
  async function dm(client: ChatClient, to: string, message: string): Promise<{ ack: Frame; sent: Frame }> {
    const clientMsgId = `${message}-${Math.random().toString(36).slice(2)}`;
    client.send('dm', { to, message, clientMsgId });
    const ack = await client.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
    const sent = await client.next((f) => f.type === 'direct' && f.clientMsgId === clientMsgId);
    return { ack, sent };
  }

  /** Posts a room message to general and returns its frame. */
  async function say(client: ChatClient, message: string): Promise<Frame> {
    client.send('message', { message });
    return client.next((f) => f.type === 'message' && f.message === message);
  }

  beforeAll(async () => {
    server = await startServer({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(() => server.close());

  it('stores a DM to a user who is away, delivers it at their next connect once, and not at the connect after', async () => {
    await away('u-bob', 'Bob Builder');
    const alice = await signIn('u-alice', 'Alice Smith');

    const { ack, sent } = await dm(alice, 'bob builder', 'while you were away');

    expect(ack).toEqual({ type: 'ack', clientMsgId: sent.clientMsgId, id: sent.id, to: 'Bob Builder', toId: 'u-bob' });
    expect(sent).toEqual({
      type: 'direct',
      id: ack.id,
      from: 'Alice Smith',
      to: 'Bob Builder',
      message: 'while you were away',
      sentAt: expect.stringMatching(/Z$/),
      clientMsgId: ack.clientMsgId,
      fromId: 'u-alice',
      toId: 'u-bob',
    });

    const bob = await signIn('u-bob', 'Bob Builder');
    expect(bob.frames.map((f) => f.type)).toEqual(['welcome', 'history', 'direct', 'notification', 'presence']);
    expect(directs(bob)).toEqual([sent]);
    await bob.close();

    const again = await signIn('u-bob', 'Bob Builder');
    expect(directs(again)).toEqual([]);
  });

  it('replays DMs to and from the user with the room messages on ?since=, each once, in id order', async () => {
    const dave = await signIn('u-dave');
    const carol = await signIn('u-carol');
    const { sent: seen } = await dm(carol, 'u-dave', 'the last thing I saw');
    await carol.close();
    const m1 = await say(dave, 'in general while carol is away');
    const { sent: d2 } = await dm(dave, 'u-carol', 'first DM while you are away');
    const m3 = await say(dave, 'more in general');
    const { sent: d4 } = await dm(dave, 'u-carol', 'second DM while you are away');

    const back = await signIn('u-carol', 'u-carol', `?since=${String(seen.id)}`);

    const resumedAt = back.frames.findIndex((f) => f.type === 'resumed');
    expect(back.frames.slice(1, resumedAt + 1)).toEqual([m1, d2, m3, d4, { type: 'resumed', lastId: d4.id }]);
    expect(back.frames.filter((f) => f.type === 'message' || f.type === 'direct').map((f) => f.id)).toEqual([m1.id, d2.id, m3.id, d4.id]);
    await back.close();
    // The replay delivered them: a connect without ?since= does not send them again.
    expect(directs(await signIn('u-carol'))).toEqual([]);
  });

  it('replays them on the resume event too, each once, in id order', async () => {
    const gus = await signIn('u-gus');
    const fay = await signIn('u-fay');
    const since = (await say(fay, 'fay was here')).id;
    const m1 = await say(gus, 'gus in general');
    const { sent: d2 } = await dm(gus, 'u-fay', 'gus to fay');
    const { sent: d3 } = await dm(fay, 'u-gus', 'fay to gus');
    const m4 = await say(gus, 'gus again');
    await fay.next((f) => f.id === m4.id);
    const before = fay.frames.length;

    fay.send('resume', { since });
    await fay.nextOfType('resumed');
    await fay.expectNoMore('direct', 200);

    expect(fay.frames.slice(before)).toEqual([m1, d2, d3, m4, { type: 'resumed', lastId: m4.id }]);
  });

  it('delivers a live DM to every connection of the recipient and of the sender, once each, and to nobody else', async () => {
    const hank1 = await signIn('u-hank');
    const hank2 = await signIn('u-hank');
    const ivy1 = await signIn('u-ivy');
    const ivy2 = await signIn('u-ivy');
    const jo = await signIn('u-jo');

    const { sent } = await dm(hank1, 'u-ivy', 'to all your devices');

    for (const client of [hank2, ivy1, ivy2]) await client.next((f) => f.type === 'direct' && f.id === sent.id);
    await jo.expectNoMore('direct', 200);
    for (const client of [hank1, hank2, ivy1, ivy2]) expect(directs(client)).toEqual([sent]);
    expect(directs(jo)).toEqual([]);
  });

  it('answers NO_SUCH_USER for a user who never signed in, and VALIDATION for a nickname two users share', async () => {
    await away('u-alex-1', 'Alex');
    await away('u-alex-2', 'alex');
    const erin = await signIn('u-erin');

    erin.send('dm', { to: 'nobody here', message: 'hello?', clientMsgId: 'n-1' });
    await expect(erin.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NO_SUCH_USER',
      message: 'No user "nobody here" has ever signed in',
      event: 'dm',
      clientMsgId: 'n-1',
    });
    erin.send('dm', { to: 'ALEX', message: 'which one?', clientMsgId: 'n-2' });
    await expect(erin.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'Several users are named "ALEX"; use the user id',
      event: 'dm',
      clientMsgId: 'n-2',
    });
    erin.send('dm', { to: 'x'.repeat(256), message: 'too long a name' });
    await expect(erin.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'to must be a user id or nickname of 1 to 255 characters',
      event: 'dm',
    });
    await expect(dm(erin, 'u-alex-2', 'by id')).resolves.toMatchObject({ ack: { to: 'alex', toId: 'u-alex-2' } });
  });

  describe('history over REST', () => {
    let k1: Frame, k2: Frame, k3: Frame, reply: Frame, toMax: Frame;

    beforeAll(async () => {
      await away('u-lee', 'Lee Ann');
      await away('u-max', 'Max');
      const kim = await signIn('u-kim', 'Kim');
      k1 = (await dm(kim, 'u-lee', 'one')).sent;
      k2 = (await dm(kim, 'u-lee', 'two')).sent;
      k3 = (await dm(kim, 'u-lee', 'three')).sent;
      await kim.close();
      const lee = await signIn('u-lee', 'Lee Ann');
      reply = (await dm(lee, 'Kim', 'four, from lee')).sent;
      await lee.close();
      const kimAgain = await signIn('u-kim', 'Kim');
      toMax = (await dm(kimAgain, 'max', 'to max')).sent;
      await kimAgain.close();
    });

    it('GET /api/dm lists the conversations of the caller, newest first', async () => {
      await expect(getAs(server, '/api/dm', 'u-kim')).resolves.toEqual({
        status: 200,
        body: {
          conversations: [
            { userId: 'u-max', nickname: 'Max', lastId: toMax.id, lastMessage: toMax },
            { userId: 'u-lee', nickname: 'Lee Ann', lastId: reply.id, lastMessage: reply },
          ],
        },
      });
      await expect(getAs(server, '/api/dm?limit=1', 'u-kim')).resolves.toMatchObject({ body: { conversations: [{ userId: 'u-max' }] } });
      await expect(getAs(server, '/api/dm', 'u-lee')).resolves.toEqual({
        status: 200,
        body: { conversations: [{ userId: 'u-kim', nickname: 'Kim', lastId: reply.id, lastMessage: reply }] },
      });
      await expect(getAs(server, '/api/dm', 'u-nobody-yet')).resolves.toEqual({ status: 200, body: { conversations: [] } });
    });

    it('GET /api/dm/:user pages one conversation, both directions, by id or nickname, oldest first', async () => {
      await expect(getAs(server, '/api/dm/u-lee', 'u-kim')).resolves.toEqual({ status: 200, body: { messages: [k1, k2, k3, reply], hasMore: false } });
      await expect(getAs(server, `/api/dm/${encodeURIComponent('lee ann')}?limit=2`, 'u-kim')).resolves.toEqual({
        status: 200,
        body: { messages: [k3, reply], hasMore: true },
      });
      await expect(getAs(server, `/api/dm/u-lee?limit=2&before=${String(k3.id)}`, 'u-kim')).resolves.toEqual({
        status: 200,
        body: { messages: [k1, k2], hasMore: false },
      });
      await expect(getAs(server, `/api/dm/u-lee?limit=2&after=${String(k1.id)}`, 'u-kim')).resolves.toEqual({
        status: 200,
        body: { messages: [k2, k3], hasMore: true },
      });
      await expect(getAs(server, '/api/dm/Kim', 'u-lee')).resolves.toEqual({ status: 200, body: { messages: [k1, k2, k3, reply], hasMore: false } });
    });

    it('answers 403 to anyone but the two participants, admins included', async () => {
      const forbidden = { status: 403, body: { statusCode: 403, error: 'Forbidden', message: 'Only its two participants can read a conversation' } };
      await expect(getAs(server, '/api/dm/u-lee?with=u-kim', 'u-max')).resolves.toEqual(forbidden);
      await expect(getAs(server, '/api/dm/u-lee?with=u-kim', 'u-boss', ['admin'])).resolves.toEqual(forbidden);
      await expect(getAs(server, '/api/dm/u-lee?with=u-kim', 'u-kim')).resolves.toMatchObject({ status: 200, body: { messages: [k1, k2, k3, reply] } });
      await expect(getAs(server, '/api/dm/u-kim?with=u-lee', 'u-kim')).resolves.toMatchObject({ status: 200, body: { messages: [k1, k2, k3, reply] } });
      // Without ?with= the conversation is the caller's own: max and lee have none.
      await expect(getAs(server, '/api/dm/u-lee', 'u-max')).resolves.toEqual({ status: 200, body: { messages: [], hasMore: false } });
    });

    it('answers 404 for a user who never signed in, 400 for a shared nickname or a bad parameter, 401 without a token', async () => {
      await expect(getAs(server, '/api/dm/nobody', 'u-kim')).resolves.toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'No user "nobody" has ever signed in' },
      });
      await expect(getAs(server, '/api/dm/u-lee?with=nobody', 'u-kim')).resolves.toMatchObject({ status: 404, body: { message: 'No user "nobody" has ever signed in' } });
      await away('u-sam-1', 'Sam');
      await away('u-sam-2', 'Sam');
      await expect(getAs(server, '/api/dm/sam', 'u-kim')).resolves.toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'Several users are named "sam"; use the user id' },
      });
      await expect(getAs(server, '/api/dm/u-lee?limit=0&color=red', 'u-kim')).resolves.toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'property color should not exist; limit must not be less than 1', parameters: ['color', 'limit'] },
      });
      await expect(getAs(server, '/api/dm')).resolves.toMatchObject({ status: 401, body: { statusCode: 401, reason: 'missing' } });
    });
  });
});

describe('direct message history in anonymous mode (e2e)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(() => server.close());

  it('answers 404: there is no signed-in user to serve it to', async () => {
    const notFound = {
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'Direct message history needs sign-in: this server runs with AUTH_MODE=anonymous' },
    };
    await expect(getAs(server, '/api/dm')).resolves.toEqual(notFound);
    await expect(getAs(server, '/api/dm/Guest1')).resolves.toEqual(notFound);
  });
});

import { ChatClient, type Frame } from './support/chat-client';
import { getAs, JWT_ENV, notice, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

const FORBIDDEN = 'Room "plans" is private: only its members can use it';
const REST_FORBIDDEN = { statusCode: 403, error: 'Forbidden', message: 'Room "plans" is private: only its members can read it' };
const forbidden = (event: string, extra: Record<string, unknown> = {}): Frame => ({ type: 'error', code: 'FORBIDDEN', message: FORBIDDEN, event, ...extra });
const isNotice = (event: string, room: string, sub: string) => (f: Frame) => f.type === 'notification' && f.event === event && f.room === room && f.userId === sub;
const isError = (event: string) => (f: Frame) => f.type === 'error' && f.event === event;

describe('private rooms (AUTH_MODE=jwt, e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];
  let olga: ChatClient;

  beforeEach(async () => {
    server = await startServer(JWT_ENV);
    clients = [];
    olga = await connect('olga');
    olga.send('create_room', { room: 'plans', visibility: 'private' });
    await olga.next(isNotice('join', 'plans', 'olga'));
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  async function connect(sub: string, name = sub, roles: string[] = []): Promise<ChatClient> {
    const { client } = await signIn(server, sub, name, roles);
    clients.push(client);
    return client;
  }

  /** `client` sends `event` and gets this error frame for it. */
  async function refused(client: ChatClient, event: string, data: Record<string, unknown>, error: Frame): Promise<void> {
    client.send(event, data);
    await expect(client.next(isError(event))).resolves.toEqual(error);
  }

  it('gives its creator the join sequence of an empty room, as owner and only member', async () => {
    const frames = olga.frames.filter((f) => f.room === 'plans');

    expect(frames).toEqual([
      { type: 'history', room: 'plans', messages: [], hasMore: false },
      { type: 'presence', room: 'plans', users: ['olga'], userIds: ['olga'], usersTotal: 1, offset: 0 },
      notice('join', 'plans', 'olga'),
    ]);
    await expect(getAs(server, '/api/me', 'olga')).resolves.toMatchObject({ body: { rooms: ['general', 'plans'] } });
  });

  it('refuses a name that is taken: ROOM_EXISTS for a created room, one with messages, one with members', async () => {
    const bob = await connect('bob');
    bob.send('message', { message: 'general has messages' });
    await bob.nextOfType('message');
    bob.send('join', { room: 'lobby' });
    await bob.next(isNotice('join', 'lobby', 'bob'));
    const exists = (room: string): Frame => ({ type: 'error', code: 'ROOM_EXISTS', message: `Room "${room}" exists already`, event: 'create_room' });

    for (const [room, visibility] of [['plans', 'public'], ['plans', 'private'], ['general', 'private'], ['lobby', 'public']]) {
      await refused(bob, 'create_room', { room, visibility }, exists(room));
    }
    await refused(bob, 'create_room', { room: 'x', visibility: 'secret' }, {
      type: 'error',
      code: 'VALIDATION',
      message: 'visibility must be one of: public, private',
      event: 'create_room',
    });
  });

  it("keeps a non-member out through every frame and REST route, and lists it to members only", async () => {
    const bob = await connect('bob');
    olga.send('message', { room: 'plans', message: 'secret plan' });
    await olga.next((f) => f.type === 'message' && f.room === 'plans');

    await refused(bob, 'join', { room: 'plans' }, forbidden('join'));
    await refused(bob, 'message', { room: 'plans', message: 'let me in', clientMsgId: 'b-1' }, forbidden('message', { clientMsgId: 'b-1' }));
    await refused(bob, 'history', { room: 'plans' }, forbidden('history'));
    await refused(bob, 'who', { room: 'plans' }, forbidden('who'));
    await refused(bob, 'typing', { room: 'plans' }, forbidden('typing'));
    await refused(bob, 'resume', { since: 0, rooms: ['plans'] }, forbidden('resume'));
    const resumed = await signIn(server, 'bob', 'bob', [], '?since=0&rooms=general,plans');
    clients.push(resumed.client);
    expect(resumed.client.frames[1]).toEqual(forbidden('resume'));

    await expect(getAs(server, '/api/messages?room=plans', 'bob')).resolves.toEqual({ status: 403, body: REST_FORBIDDEN });
    await expect(getAs(server, '/api/rooms/plans/users', 'bob')).resolves.toEqual({ status: 403, body: REST_FORBIDDEN });
    await expect(getAs(server, '/api/rooms', 'bob')).resolves.toEqual({
      status: 200,
      body: { rooms: [{ name: 'general', members: 2, lastMessageId: null, visibility: 'public' }] },
    });
    await expect(getAs(server, '/api/rooms', 'olga')).resolves.toEqual({
      status: 200,
      body: {
        rooms: [
          { name: 'general', members: 2, lastMessageId: null, visibility: 'public' },
          { name: 'plans', members: 1, lastMessageId: expect.any(Number), visibility: 'private' },
        ],
      },
    });
    await expect(getAs(server, '/api/messages?room=plans', 'olga')).resolves.toMatchObject({ status: 200, body: { messages: [{ message: 'secret plan' }] } });
    await expect(getAs(server, '/api/rooms/plans/users', 'olga')).resolves.toMatchObject({ status: 200, body: { total: 1 } });
    expect([...bob.frames, ...resumed.client.frames].filter((f) => f.room === 'plans' && f.type !== 'error')).toEqual([]);
  });

  it('invites by nickname: every connection of the invitee is told and joins; the owner gets membership', async () => {
    const laptop = await connect('bob', 'Bob Stone');
    const phone = await connect('bob', 'Bob Stone');

    olga.send('invite', { room: 'plans', user: 'bob stone' });

    // The invitee's connections join first; then the owner's reply.
    await expect(olga.next(isNotice('join', 'plans', 'bob'))).resolves.toEqual(notice('join', 'plans', 'bob', 'Bob Stone'));
    await expect(olga.nextOfType('membership')).resolves.toEqual({ type: 'membership', room: 'plans', user: 'Bob Stone', userId: 'bob', member: true });
    for (const device of [laptop, phone]) {
      const frames = await device.collect((f) => f.room === 'plans', 4);
      expect(frames).toEqual([
        { type: 'invited', room: 'plans', by: 'olga', byId: 'olga' },
        { type: 'history', room: 'plans', messages: [], hasMore: false },
        { type: 'presence', room: 'plans', users: ['olga', 'Bob Stone'], userIds: ['olga', 'bob'], usersTotal: 2, offset: 0 },
        notice('join', 'plans', 'bob', 'Bob Stone'),
      ]);
    }
    phone.send('message', { room: 'plans', message: 'thanks' });
    await expect(olga.next((f) => f.type === 'message' && f.room === 'plans')).resolves.toMatchObject({ message: 'thanks', userId: 'bob' });
  });

  it('keeps an invitation for a user who is away, by id, until it connects', async () => {
    await getAs(server, '/api/me', 'carol'); // carol signed in once, through the API

    olga.send('invite', { room: 'plans', user: 'carol' });
    await expect(olga.nextOfType('membership')).resolves.toEqual({ type: 'membership', room: 'plans', user: 'carol', userId: 'carol', member: true });
    const carol = await signIn(server, 'carol');
    clients.push(carol.client);

    expect(carol.welcome.rooms).toEqual(['general', 'plans']);
    carol.client.send('history', { room: 'plans' });
    await expect(carol.client.nextOfType('history')).resolves.toEqual({ type: 'history', room: 'plans', messages: [], hasMore: false });
  });

  it('lets only the owner or an admin invite; answers NO_SUCH_USER and, for a shared nickname, VALIDATION', async () => {
    const bob = await connect('bob');
    const root = await connect('root', 'root', ['admin']);
    await getAs(server, '/api/me', 'sam-1');
    const samToken = await tokenFor('sam-2', 'sam-1');
    await fetch(`${server.httpUrl}/api/me`, { headers: { authorization: `Bearer ${samToken}` }, signal: AbortSignal.timeout(5000) });
    const notAllowed = 'Only the owner of a private room "plans" or an admin can invite to it or remove from it';

    await refused(bob, 'invite', { room: 'plans', user: 'bob' }, { type: 'error', code: 'FORBIDDEN', message: notAllowed, event: 'invite' });
    await refused(bob, 'remove', { room: 'plans', user: 'olga' }, { type: 'error', code: 'FORBIDDEN', message: notAllowed, event: 'remove' });
    await refused(olga, 'invite', { room: 'plans', user: 'nobody' }, { type: 'error', code: 'NO_SUCH_USER', message: 'No user "nobody" has ever signed in', event: 'invite' });
    await refused(olga, 'invite', { room: 'plans', user: 'Sam-1' }, {
      type: 'error',
      code: 'VALIDATION',
      message: 'Several users are named "Sam-1"; use the user id',
      event: 'invite',
    });
    root.send('invite', { room: 'plans', user: 'bob' });
    await expect(root.nextOfType('membership')).resolves.toMatchObject({ userId: 'bob', member: true });
    await expect(bob.nextOfType('invited')).resolves.toEqual({ type: 'invited', room: 'plans', by: 'root', byId: 'root' });
  });

  it('removes at once: a message sent right after the remove reaches none of the removed user’s connections', async () => {
    const laptop = await connect('bob');
    const phone = await connect('bob');
    olga.send('invite', { room: 'plans', user: 'bob' });
    await olga.nextOfType('membership');
    await phone.next(isNotice('join', 'plans', 'bob'));
    await laptop.next(isNotice('join', 'plans', 'bob'));

    olga.send('remove', { room: 'plans', user: 'bob' });
    olga.send('message', { room: 'plans', message: 'after the remove' });

    await expect(olga.nextOfType('membership')).resolves.toEqual({ type: 'membership', room: 'plans', user: 'bob', userId: 'bob', member: false });
    await expect(olga.next((f) => f.type === 'message' && f.room === 'plans')).resolves.toMatchObject({ message: 'after the remove' });
    for (const device of [laptop, phone]) {
      await expect(device.nextOfType('removed')).resolves.toEqual({ type: 'removed', room: 'plans', by: 'olga', byId: 'olga' });
    }
    await refused(laptop, 'message', { room: 'plans', message: 'still in?' }, forbidden('message'));
    await laptop.expectNoMore('message', 200);
    expect([...laptop.frames, ...phone.frames].filter((f) => f.type === 'message')).toEqual([]);
    expect(olga.frames.filter(isNotice('leave', 'plans', 'bob'))).toEqual([notice('leave', 'plans', 'bob')]);
    await expect(getAs(server, '/api/messages?room=plans', 'bob')).resolves.toMatchObject({ status: 403 });
    await expect(getAs(server, '/api/me', 'bob')).resolves.toMatchObject({ body: { rooms: ['general'] } });
  });

  it('answers a remove of a non-member with membership false, and of an unknown user with NO_SUCH_USER', async () => {
    const bob = await connect('bob');

    olga.send('remove', { room: 'plans', user: 'bob' });
    await expect(olga.nextOfType('membership')).resolves.toEqual({ type: 'membership', room: 'plans', user: 'bob', userId: 'bob', member: false });
    await refused(olga, 'remove', { room: 'plans', user: 'nobody' }, { type: 'error', code: 'NO_SUCH_USER', message: 'No user "nobody" has ever signed in', event: 'remove' });
    expect(bob.frames.filter((f) => f.type === 'removed')).toEqual([]);
  });

  it('lets the owner come back after leaving its room', async () => {
    olga.send('leave', { room: 'plans' });
    olga.send('join', { room: 'plans' });

    await expect(olga.next(isNotice('join', 'plans', 'olga'))).resolves.toEqual(notice('join', 'plans', 'olga'));
  });
});

describe('private rooms in anonymous mode (e2e)', () => {
  let server: TestServer;
  let client: ChatClient;

  beforeAll(async () => {
    server = await startServer();
    client = (await ChatClient.join(server.wsUrl)).client;
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('refuses private rooms and invitations (no stable identity), creates public ones', async () => {
    client.send('create_room', { room: 'hidden', visibility: 'private' });
    await expect(client.next(isError('create_room'))).resolves.toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'Private rooms need signed-in users (AUTH_MODE=jwt): this server is anonymous',
      event: 'create_room',
    });
    client.send('invite', { room: 'general', user: 'Guest9' });
    await expect(client.next(isError('invite'))).resolves.toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'Only signed-in users (AUTH_MODE=jwt) have private rooms to invite to',
      event: 'invite',
    });
    client.send('create_room', { room: 'general', visibility: 'public' });
    await expect(client.next(isError('create_room'))).resolves.toMatchObject({ code: 'ROOM_EXISTS' });

    client.send('create_room', { room: 'open', visibility: 'public' });

    await expect(client.next((f) => f.room === 'open')).resolves.toEqual({ type: 'history', room: 'open', messages: [], hasMore: false });
    await expect(client.next()).resolves.toMatchObject({ type: 'presence', room: 'open', users: [client.nickname], usersTotal: 1 });
    await expect(client.next()).resolves.toEqual({ type: 'notification', event: 'join', room: 'open', nickname: client.nickname, message: `${client.nickname} joined` });
    await expect(getAs(server, '/api/rooms')).resolves.toMatchObject({ body: { rooms: expect.arrayContaining([{ name: 'open', members: 1, lastMessageId: null }]) } });
  });
});

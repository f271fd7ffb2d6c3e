import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, type Frame } from './support/chat-client';
import { getAs, JWT_ENV, notice, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

const isNotice = (event: string, room: string, sub: string) => (f: Frame) => f.type === 'notification' && f.event === event && f.room === room && f.userId === sub;

describe('one user on many devices (AUTH_MODE=jwt, e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];

  beforeEach(async () => {
    server = await startServer(JWT_ENV);
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  async function connect(sub: string, name = sub, roles: string[] = []): Promise<{ client: ChatClient; welcome: Frame }> {
    const signedIn = await signIn(server, sub, name, roles);
    clients.push(signedIn.client);
    return signedIn;
  }

  it('makes two connections of one user one presence entry, announced once, and delivers to both', async () => {
    const bob = (await connect('bob')).client;
    const laptop = (await connect('alice', 'Alice Martin')).client;
    await expect(bob.next(isNotice('join', 'general', 'alice'))).resolves.toEqual(notice('join', 'general', 'alice', 'Alice Martin'));

    const { client: phone, welcome } = await connect('alice', 'Alice Martin');

    expect(welcome).toEqual({
      type: 'welcome',
      nickname: 'Alice Martin',
      userId: 'alice',
      roles: [],
      message: 'Welcome, Alice Martin',
      users: ['bob', 'Alice Martin'],
      userIds: ['bob', 'alice'],
      usersTotal: 2,
      room: 'general',
      rooms: ['general'],
    });
    await expect(getAs(server, '/api/users', 'bob')).resolves.toEqual({
      status: 200,
      body: { users: [expect.objectContaining({ nickname: 'bob', userId: 'bob' }), expect.objectContaining({ nickname: 'Alice Martin', userId: 'alice' })], total: 2 },
    });
    bob.send('who', { room: 'general' });
    await expect(bob.nextOfType('presence')).resolves.toEqual({
      type: 'presence',
      room: 'general',
      users: ['bob', 'Alice Martin'],
      userIds: ['bob', 'alice'],
      usersTotal: 2,
      offset: 0,
    });
    await expect(getAs(server, '/api/rooms/general/users', 'bob')).resolves.toMatchObject({ status: 200, body: { total: 2 } });

    bob.send('message', { message: 'to every device' });
    laptop.send('message', { message: 'from the laptop', clientMsgId: 'l-1' });
    for (const device of [laptop, phone, bob]) {
      await expect(device.next((f) => f.type === 'message' && f.message === 'to every device')).resolves.toMatchObject({ nickname: 'bob', userId: 'bob' });
      await expect(device.next((f) => f.type === 'message' && f.message === 'from the laptop')).resolves.toMatchObject({
        nickname: 'Alice Martin',
        userId: 'alice',
        clientMsgId: 'l-1',
      });
    }
    await bob.expectNoMore('notification');
    expect(bob.frames.filter(isNotice('join', 'general', 'alice'))).toHaveLength(1);
  });

  it('tells a room of the user only when its last connection leaves', async () => {
    const bob = (await connect('bob')).client;
    const laptop = (await connect('alice')).client;
    const phone = (await connect('alice')).client;

    await laptop.close();
    await bob.expectNoMore('notification', 300);
    await phone.close();

    await expect(bob.next(isNotice('leave', 'general', 'alice'))).resolves.toEqual(notice('leave', 'general', 'alice'));
    await expect(getAs(server, '/api/users', 'bob')).resolves.toMatchObject({ body: { total: 1 } });
  });

  it('relays typing to other users only, once per user within the throttle', async () => {
    const bob = (await connect('bob')).client;
    const laptop = (await connect('alice')).client;
    const phone = (await connect('alice')).client;

    laptop.send('typing', { room: 'general' });
    phone.send('typing', { room: 'general' });

    await expect(bob.nextOfType('typing')).resolves.toEqual({ type: 'typing', room: 'general', nickname: 'alice', userId: 'alice' });
    await bob.expectNoMore('typing', 300);
    expect([...laptop.frames, ...phone.frames].filter((f) => f.type === 'typing')).toEqual([]);
  });

  it('joins every connection of the user on a join from one; a leave from one leaves them all', async () => {
    const bob = (await connect('bob')).client;
    bob.send('join', { room: 'eng' });
    await bob.next(isNotice('join', 'eng', 'bob'));
    const laptop = (await connect('alice')).client;
    const phone = (await connect('alice')).client;

    laptop.send('join', { room: 'eng' });

    for (const device of [laptop, phone]) {
      await expect(device.next((f) => f.room === 'eng')).resolves.toEqual({ type: 'history', room: 'eng', messages: [], hasMore: false });
      await expect(device.next()).resolves.toEqual({ type: 'presence', room: 'eng', users: ['bob', 'alice'], userIds: ['bob', 'alice'], usersTotal: 2, offset: 0 });
      await expect(device.next()).resolves.toEqual(notice('join', 'eng', 'alice'));
    }
    await expect(bob.next(isNotice('join', 'eng', 'alice'))).resolves.toEqual(notice('join', 'eng', 'alice'));

    phone.send('leave', { room: 'eng' });

    await expect(bob.next(isNotice('leave', 'eng', 'alice'))).resolves.toEqual(notice('leave', 'eng', 'alice'));
    await expect(laptop.next(isNotice('leave', 'eng', 'alice'))).resolves.toEqual(notice('leave', 'eng', 'alice'));
    bob.send('message', { room: 'eng', message: 'after alice left' });
    await bob.next((f) => f.type === 'message' && f.room === 'eng');
    laptop.send('message', { room: 'eng', message: 'still here?', clientMsgId: 'x' });
    await expect(laptop.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NOT_IN_ROOM',
      message: 'You are not in room "eng"; join it first',
      event: 'message',
      clientMsgId: 'x',
    });
    expect([...laptop.frames, ...phone.frames].filter((f) => f.type === 'message' && f.room === 'eng')).toEqual([]);
  });

  it('replays on a resume only rooms of the user: NOT_IN_ROOM for another, and the connect goes on as an ordinary one', async () => {
    const alice = await signIn(server, 'alice', 'alice', [], '?since=0&rooms=general,ops');
    clients.push(alice.client);

    expect(alice.client.frames.slice(0, 4)).toEqual([
      alice.welcome,
      { type: 'error', code: 'NOT_IN_ROOM', message: 'You are not in room "ops"; join it first', event: 'resume' },
      { type: 'history', room: 'general', messages: [], hasMore: false },
      notice('join', 'general', 'alice'),
    ]);
    alice.client.send('resume', { since: 0, rooms: ['ops'] });
    await expect(alice.client.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NOT_IN_ROOM',
      message: 'You are not in room "ops"; join it first',
      event: 'resume',
    });
  });

  it('answers GET /api/me with the user, its roles and its rooms', async () => {
    await expect(getAs(server, '/api/me', 'carol')).resolves.toEqual({ status: 200, body: { userId: 'carol', nickname: 'carol', roles: [], rooms: ['general'] } });

    const { client } = await connect('dave', 'Dave', ['admin']);
    client.send('join', { room: 'ops' });
    await client.next(isNotice('join', 'ops', 'dave'));
    const token = await tokenFor('dave', 'Dave', ['admin']);
    const res = await fetch(`${server.httpUrl}/api/me`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });

    await expect(res.json()).resolves.toEqual({ userId: 'dave', nickname: 'Dave', roles: ['admin'], rooms: ['general', 'ops'] });
  });
});

describe('membership across a restart (AUTH_MODE=jwt, e2e)', () => {
  let dir: string;
  let server: TestServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-members-'));
  });

  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the rooms a user joined or created and forgets the ones it left, and private rooms stay private, after a restart', async () => {
    const env = { ...JWT_ENV, SQLITE_PATH: join(dir, 'chat.sqlite') };
    server = await startServer(env);
    const { client } = await signIn(server, 'alice');
    client.send('join', { room: 'eng' });
    await client.next(isNotice('join', 'eng', 'alice'));
    client.send('create_room', { room: 'diary', visibility: 'private' });
    await client.next(isNotice('join', 'diary', 'alice'));
    client.send('leave', { room: 'general' });
    client.send('who', { room: 'eng' }); // answered after the leave is handled
    await client.nextOfType('presence');
    await expect(getAs(server, '/api/me', 'alice')).resolves.toMatchObject({ body: { rooms: ['eng', 'diary'] } });
    await client.close();
    await server.close();

    server = await startServer(env);
    const back = await signIn(server, 'alice');
    const bob = await signIn(server, 'bob');

    expect(back.welcome.rooms).toEqual(['eng', 'diary']);
    expect(back.client.frames.map((f) => f.type)).toEqual(['welcome', 'history', 'history', 'notification', 'notification']);
    await expect(getAs(server, '/api/me', 'alice')).resolves.toEqual({ status: 200, body: { userId: 'alice', nickname: 'alice', roles: [], rooms: ['eng', 'diary'] } });
    bob.client.send('join', { room: 'diary' });
    await expect(bob.client.nextOfType('error')).resolves.toMatchObject({ code: 'FORBIDDEN', event: 'join' });
    await expect(getAs(server, '/api/rooms/diary/users', 'bob')).resolves.toMatchObject({ status: 403 });
    await Promise.all([back.client.close(), bob.client.close()]);
  });
});

describe('GET /api/me in anonymous mode (e2e)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(() => server.close());

  it('answers 404: nobody is signed in', async () => {
    await expect(getAs(server, '/api/me')).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'Nobody is signed in: this server runs without sign-in (AUTH_MODE=anonymous)' },
    });
  });
});

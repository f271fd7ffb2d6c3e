import { DataSource } from 'typeorm';
import { ChatClient, type Frame } from './support/chat-client';
import { getJson, slowNextRead, startServer, type TestServer } from './support/test-app';

describe('rooms, direct messages, presence and typing (e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];
  let alice: ChatClient;
  let bob: ChatClient;
  let carol: ChatClient;

  beforeEach(async () => {
    server = await startServer();
    clients = [];
    for (const nickname of ['alice', 'bob', 'carol']) {
      const client = (await ChatClient.join(server.wsUrl)).client;
      client.send('nick', { nickname });
      await client.next((f) => f.type === 'nick_update' && f.nickname === nickname);
      clients.push(client);
    }
    [alice, bob, carol] = clients;
    // each client has seen its own rename and those of the clients that connected after it
    await Promise.all(clients.map((c, i) => c.collect('nick_update', 3 - i)));
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  const framesOf = (client: ChatClient, room: string) => client.frames.filter((f) => f.room === room);

  async function joinRoom(client: ChatClient, room: string): Promise<{ history: Frame; presence: Frame; join: Frame }> {
    client.send('join', { room });
    const history = await client.next((f) => f.type === 'history' && f.room === room);
    const presence = await client.next();
    const join = await client.next();
    return { history, presence, join };
  }

  it('sends the joiner history, then presence, then its join notification, and tells the members', async () => {
    await joinRoom(alice, 'eng');
    alice.send('message', { room: 'eng', message: 'before bob' });
    await alice.next((f) => f.type === 'message' && f.room === 'eng');

    const { history, presence, join } = await joinRoom(bob, 'eng');

    expect(history).toEqual({
      type: 'history',
      room: 'eng',
      messages: [expect.objectContaining({ room: 'eng', nickname: 'alice', message: 'before bob' })],
      hasMore: false,
    });
    expect(presence).toEqual({ type: 'presence', room: 'eng', users: ['alice', 'bob'], usersTotal: 2, offset: 0 });
    const notification = { type: 'notification', event: 'join', room: 'eng', nickname: 'bob', message: 'bob joined' };
    expect(join).toEqual(notification);
    await expect(alice.next((f) => f.type === 'notification' && f.room === 'eng' && f.nickname === 'bob')).resolves.toEqual(
      notification,
    );
    await carol.expectNoMore('notification', 200);
  });

  it('gives a member joining during traffic every message of the room exactly once, in order', async () => {
    await joinRoom(alice, 'eng');
    // A slow history read (as on a networked database) lets messages commit while bob joins.
    slowNextRead(server, 'page');
    bob.send('join', { room: 'eng' });
    for (let i = 0; i < 30; i++) {
      alice.send('message', { room: 'eng', message: `busy ${i}` });
      await new Promise((r) => setTimeout(r, 10));
    }
    await alice.collect((f) => f.type === 'message' && f.room === 'eng', 30);
    await bob.collect((f) => f.type === 'message' && f.room === 'eng', 1);
    const roomFrames = bob.frames.filter((f) => f.room === 'eng' && (f.type === 'history' || f.type === 'message'));
    expect(roomFrames[0].type).toBe('history'); // nothing of the room before its history
    const seen = (roomFrames[0].messages as Frame[]).map((m) => m.message);
    expect(seen.length).toBeGreaterThan(0); // the race really happened
    await bob.collect((f) => f.type === 'message' && f.room === 'eng', 30 - seen.length);
    await bob.expectNoMore('message', 200);
    const live = bob.frames.filter((f) => f.type === 'message' && f.room === 'eng').map((m) => m.message);
    expect([...seen, ...live]).toEqual(Array.from({ length: 30 }, (_, i) => `busy ${i}`));
  });

  it('treats joining a room twice as a no-op', async () => {
    await joinRoom(alice, 'eng');
    const before = alice.frames.length;
    alice.send('join', { room: 'eng' });
    alice.send('who', { room: 'eng' }); // a marker: its reply must be the next frame
    await expect(alice.next()).resolves.toEqual({ type: 'presence', room: 'eng', users: ['alice'], usersTotal: 1, offset: 0 });
    expect(alice.frames.length).toBe(before + 1);
  });

  it('delivers a room\'s frames only to its members', async () => {
    await joinRoom(alice, 'eng');
    await joinRoom(bob, 'eng');

    alice.send('message', { room: 'eng', message: 'secret plans', clientMsgId: 'e1' });
    alice.send('typing', { room: 'eng' });

    await expect(bob.collect('message', 1)).resolves.toEqual([
      expect.objectContaining({ room: 'eng', message: 'secret plans', nickname: 'alice' }),
    ]);
    await expect(bob.collect('typing', 1)).resolves.toEqual([{ type: 'typing', room: 'eng', nickname: 'alice' }]);
    await carol.expectNoMore('message', 300);
    expect(carol.frames.filter((f) => f.room === 'eng')).toEqual([]);
    alice.send('message', { message: 'to general' });
    await expect(carol.next((f) => f.type === 'message')).resolves.toMatchObject({ room: 'general', message: 'to general' });
  });

  it('answers NOT_IN_ROOM for sending to, or asking history of, a room you are not in', async () => {
    carol.send('message', { room: 'eng', message: 'let me in', clientMsgId: 'n1' });
    await expect(carol.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NOT_IN_ROOM',
      message: 'You are not in room "eng"; join it first',
      event: 'message',
      clientMsgId: 'n1',
    });
    carol.send('history', { room: 'eng' });
    await expect(carol.nextOfType('error')).resolves.toMatchObject({ code: 'NOT_IN_ROOM', event: 'history' });
    carol.send('typing', { room: 'eng' });
    await expect(carol.nextOfType('error')).resolves.toMatchObject({ code: 'NOT_IN_ROOM', event: 'typing' });
  });

  it('answers VALIDATION for a bad room name', async () => {
    alice.send('join', { room: 'no spaces' });
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'room must be 1 to 64 letters, digits, "_", "-" or "."',
      event: 'join',
    });
  });

  it('answers VALIDATION for a room name that looks like another one through an invisible character', async () => {
    alice.send('join', { room: 'general\u3164' });
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'room must be 1 to 64 letters, digits, "_", "-" or "."',
      event: 'join',
    });
  });

  it('on leave tells the remaining members, and the leaver stops receiving the room', async () => {
    await joinRoom(alice, 'eng');
    await joinRoom(bob, 'eng');
    await alice.next((f) => f.type === 'notification' && f.nickname === 'bob');

    bob.send('leave', { room: 'eng' });

    await expect(alice.next((f) => f.type === 'notification' && f.event === 'leave')).resolves.toEqual({
      type: 'notification',
      event: 'leave',
      room: 'eng',
      nickname: 'bob',
      message: 'bob left',
    });
    alice.send('message', { room: 'eng', message: 'bob is gone' });
    await alice.next((f) => f.type === 'message' && f.message === 'bob is gone');
    await bob.expectNoMore('message', 200);
    expect(framesOf(bob, 'eng').filter((f) => f.type !== 'history' && f.type !== 'presence').map((f) => f.event ?? f.type)).toEqual([
      'join',
    ]);
    alice.send('who', { room: 'eng' });
    await expect(alice.nextOfType('presence')).resolves.toEqual({ type: 'presence', room: 'eng', users: ['alice'], usersTotal: 1, offset: 0 });
  });

  it('sends one leave notification per room when a member disconnects', async () => {
    await joinRoom(alice, 'eng');
    await joinRoom(bob, 'eng');
    await alice.next((f) => f.type === 'notification' && f.nickname === 'bob' && f.room === 'eng');

    await bob.close();

    const leaves = await alice.collect((f) => f.type === 'notification' && f.event === 'leave', 2);
    expect(leaves).toEqual([
      expect.objectContaining({ room: 'general', nickname: 'bob' }),
      expect.objectContaining({ room: 'eng', nickname: 'bob' }),
    ]);
    await carol.collect((f) => f.event === 'leave', 1);
    await carol.expectNoMore('notification', 200);
    expect(carol.frames.filter((f) => f.event === 'leave').map((f) => f.room)).toEqual(['general']);
  });

  it('keeps presence right through joins, renames, leaves and disconnects', async () => {
    await joinRoom(alice, 'ops');
    await joinRoom(bob, 'ops');
    await joinRoom(carol, 'ops');
    bob.send('nick', { nickname: 'robert' });
    await alice.next((f) => f.type === 'nick_update' && f.nickname === 'robert');
    carol.send('leave', { room: 'ops' });
    await alice.next((f) => f.type === 'notification' && f.event === 'leave' && f.room === 'ops');

    alice.send('who', { room: 'ops' });
    await expect(alice.nextOfType('presence')).resolves.toEqual({ type: 'presence', room: 'ops', users: ['alice', 'robert'], usersTotal: 2, offset: 0 });
    await expect(getJson(`${server.httpUrl}/api/rooms/ops/users`)).resolves.toEqual({
      status: 200,
      body: { room: 'ops', users: [expect.objectContaining({ nickname: 'alice' }), expect.objectContaining({ nickname: 'robert' })], total: 2 },
    });

    await bob.close();
    await alice.next((f) => f.type === 'notification' && f.event === 'leave' && f.room === 'ops' && f.nickname === 'robert');
    alice.send('who', { room: 'ops' });
    await expect(alice.nextOfType('presence')).resolves.toEqual({ type: 'presence', room: 'ops', users: ['alice'], usersTotal: 1, offset: 0 });
  });

  describe('direct messages', () => {
    it('reach the sender and the recipient only, and are never part of room history', async () => {
      alice.send('dm', { to: 'BOB', message: 'psst', clientMsgId: 'd1' });

      const expected = {
        type: 'direct',
        id: expect.any(Number),
        from: 'alice',
        to: 'bob',
        message: 'psst',
        sentAt: expect.stringMatching(/Z$/),
        clientMsgId: 'd1',
      };
      await expect(alice.nextOfType('direct')).resolves.toEqual(expected);
      await expect(bob.nextOfType('direct')).resolves.toEqual(expected);
      await carol.expectNoMore('direct', 300);
      expect(carol.frames.some((f) => JSON.stringify(f).includes('psst'))).toBe(false);

      const general = await getJson(`${server.httpUrl}/api/messages`);
      expect(JSON.stringify(general.body)).not.toContain('psst');
      const rooms = await getJson(`${server.httpUrl}/api/rooms`);
      expect(JSON.stringify(rooms.body)).not.toContain('psst');
      bob.send('history', {});
      await expect(bob.nextOfType('history')).resolves.toMatchObject({ messages: [] });
      const stored = await server.app.get(DataSource).query('SELECT nickname AS sender, recipient, body FROM messages WHERE room IS NULL');
      expect(stored).toEqual([{ sender: 'alice', recipient: 'bob', body: 'psst' }]);
    });

    it('answer NO_SUCH_USER for an unknown or offline nickname and store nothing', async () => {
      await carol.close();
      alice.send('dm', { to: 'carol', message: 'are you there?', clientMsgId: 'd2' });
      await expect(alice.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NO_SUCH_USER',
        message: 'No user named "carol" is online',
        event: 'dm',
        clientMsgId: 'd2',
      });
      alice.send('dm', { to: 'nobody', message: 'hello?' });
      await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'NO_SUCH_USER' });
      await expect(server.app.get(DataSource).query('SELECT COUNT(*) AS n FROM messages WHERE room IS NULL')).resolves.toEqual([{ n: 0 }]);
    });

    it('validate their fields', async () => {
      alice.send('dm', { to: 'bob', message: '  ' });
      await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'VALIDATION', event: 'dm' });
      alice.send('dm', { message: 'to whom?' });
      await expect(alice.nextOfType('error')).resolves.toMatchObject({
        code: 'VALIDATION',
        message: 'to must be 1 to 32 letters, digits, "_", "-" or "."',
      });
    });
  });

  describe('typing', () => {
    it('relays at most one indicator per user and room every 2 seconds, to the other members only', async () => {
      for (let i = 0; i < 5; i++) alice.send('typing', { room: 'general' });
      await expect(bob.nextOfType('typing')).resolves.toEqual({ type: 'typing', room: 'general', nickname: 'alice' });
      await carol.nextOfType('typing');
      await bob.expectNoMore('typing', 500);
      expect(alice.frames.filter((f) => f.type === 'typing')).toEqual([]);
      expect(bob.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
      bob.send('typing', { room: 'general' }); // another user is throttled separately
      await expect(alice.nextOfType('typing')).resolves.toMatchObject({ nickname: 'bob' });

      await new Promise((r) => setTimeout(r, 1600)); // 2.1 s after alice's first indicator
      alice.send('typing', { room: 'general' });
      await expect(bob.nextOfType('typing')).resolves.toMatchObject({ nickname: 'alice' });
    });
  });

  describe('REST', () => {
    it('lists rooms with members or messages, with member counts and the last message id', async () => {
      await joinRoom(alice, 'eng');
      await joinRoom(bob, 'quiet');
      alice.send('message', { room: 'eng', message: 'x' });
      const last = await alice.next((f) => f.type === 'message');
      bob.send('leave', { room: 'quiet' });
      alice.send('who', { room: 'quiet' });
      await alice.nextOfType('presence');

      await expect(getJson(`${server.httpUrl}/api/rooms`)).resolves.toEqual({
        status: 200,
        body: {
          rooms: [
            { name: 'eng', members: 1, lastMessageId: last.id },
            { name: 'general', members: 3, lastMessageId: null },
          ],
        },
      });
    });

    it('serves any public room\'s messages and users, 404 for a room that does not exist, 400 for a bad name', async () => {
      await joinRoom(alice, 'eng');
      alice.send('message', { room: 'eng', message: 'public' });
      await alice.next((f) => f.type === 'message');
      alice.send('leave', { room: 'eng' });

      await expect(getJson(`${server.httpUrl}/api/messages?room=eng`)).resolves.toMatchObject({
        status: 200,
        body: { messages: [{ room: 'eng', message: 'public' }], hasMore: false },
      });
      await expect(getJson(`${server.httpUrl}/api/rooms/eng/users`)).resolves.toEqual({ status: 200, body: { room: 'eng', users: [], total: 0 } });
      await expect(getJson(`${server.httpUrl}/api/rooms/nowhere/users`)).resolves.toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'No room named "nowhere"' },
      });
      await expect(getJson(`${server.httpUrl}/api/rooms/${encodeURIComponent('a b')}/users`)).resolves.toEqual({
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', message: 'room must be 1 to 64 letters, digits, "_", "-" or "."', parameters: ['room'] },
      });
      await expect(getJson(`${server.httpUrl}/api/messages?room=${encodeURIComponent('<b>')}`)).resolves.toMatchObject({
        status: 400,
        body: { parameters: ['room'] },
      });
    });
  });
});

import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { runFailingServer, spawnServer, type ServerProcess } from './support/server-process';
import { getJson, startServer, type TestServer } from './support/test-app';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const held = (nickname: string): Frame => ({
  type: 'error',
  code: 'NICK_TAKEN',
  message: `Nickname "${nickname}" is held for a reconnecting user`,
  event: 'nick',
});

/** Connects, renames to `nickname` and waits until `watcher` has seen it; returns the client and its welcome. */
async function named(url: string, nickname: string, watcher: ChatClient): Promise<{ client: ChatClient; welcome: Frame }> {
  const { client, welcome } = await ChatClient.join(url);
  client.send('nick', { nickname });
  await watcher.next((f) => f.type === 'nick_update' && f.nickname === nickname);
  return { client, welcome };
}

const renames = (client: ChatClient): Frame[] => client.frames.filter((f) => f.type === 'nick_update');
const left = (nickname: string) => (f: Frame) => f.type === 'notification' && f.event === 'leave' && f.nickname === nickname;
const joined = (nickname: string) => (f: Frame) => f.type === 'notification' && f.event === 'join' && f.nickname === nickname;
const onlineNames = async (server: TestServer): Promise<string[]> =>
  ((await getJson(`${server.httpUrl}/api/users`)).body as { users: Array<{ nickname: string }> }).users.map((u) => u.nickname);

describe('nickname held across a reconnect (e2e)', () => {
  const clients: ChatClient[] = [];
  const track = (client: ChatClient): ChatClient => (clients.push(client), client);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  describe('with the default NICK_HOLD_MS (30 s)', () => {
    let server: TestServer;
    let bob: ChatClient;

    beforeEach(async () => {
      server = await startServer();
      bob = track((await ChatClient.join(server.wsUrl)).client);
    });

    afterEach(async () => {
      await server.close();
    });

    it('refuses the name to others while it is held, and gives it back to the token in welcome, with no nick_update', async () => {
      const { client: alice, welcome } = await named(server.wsUrl, 'alice', bob);
      expect(welcome.reconnectToken).toMatch(TOKEN);
      await alice.close();
      await bob.next(left('alice'));

      for (const form of ['alice', 'ALICE', 'aIice']) {
        bob.send('nick', { nickname: form });
        await expect(bob.nextOfType('error')).resolves.toEqual(held(form));
      }
      bob.send('dm', { to: 'alice', message: 'are you there?', clientMsgId: 'd-1' });
      await expect(bob.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NO_SUCH_USER',
        message: 'No user named "alice" is online',
        event: 'dm',
        clientMsgId: 'd-1',
      });
      await expect(onlineNames(server)).resolves.toEqual(['Guest1']);

      const back = track(await ChatClient.connect(`${server.wsUrl}?token=${String(welcome.reconnectToken)}`));
      const again = await back.nextOfType('welcome');

      expect(again).toMatchObject({ nickname: 'alice', message: 'Welcome, alice', users: ['Guest1', 'alice'], usersTotal: 2 });
      expect(again.reconnectToken).toMatch(TOKEN);
      expect(again.reconnectToken).not.toBe(welcome.reconnectToken);
      await bob.next(joined('alice'));
      await bob.expectNoMore('nick_update');
      expect(renames(bob)).toEqual([expect.objectContaining({ nickname: 'alice', previous: 'Guest2' })]);
      back.send('message', { message: 'back again' });
      await expect(bob.nextOfType('message')).resolves.toMatchObject({ nickname: 'alice', message: 'back again' });
    });

    it('combines ?token= with ?since=&rooms=: the name, the replay and the rooms', async () => {
      const { client: alice, welcome } = await named(server.wsUrl, 'alice', bob);
      alice.send('join', { room: 'eng' });
      await alice.nextOfType('presence');
      await alice.close();
      await bob.next(left('alice'));
      bob.send('join', { room: 'eng' });
      await bob.nextOfType('presence');
      bob.send('message', { room: 'eng', message: 'missed', clientMsgId: 'm-1' });
      const { id } = await bob.nextOfType('ack');

      const back = track(await ChatClient.connect(`${server.wsUrl}?since=0&rooms=general,eng&token=${String(welcome.reconnectToken)}`));

      await expect(back.next()).resolves.toMatchObject({ type: 'welcome', nickname: 'alice', rooms: ['general', 'eng'] });
      await expect(back.next()).resolves.toMatchObject({ type: 'message', id, room: 'eng', message: 'missed' });
      await expect(back.next()).resolves.toEqual({ type: 'resumed', lastId: id });
      await expect(back.next()).resolves.toMatchObject({ type: 'notification', event: 'join', room: 'general', nickname: 'alice' });
      await expect(back.next()).resolves.toMatchObject({ type: 'notification', event: 'join', room: 'eng', nickname: 'alice' });
    });

    it('takes the name over from a connection still open: closed with 4002, its leave before the new join', async () => {
      const { client: old, welcome } = await named(server.wsUrl, 'alice', bob);
      const seen = bob.frames.length;

      const back = track(await ChatClient.connect(`${server.wsUrl}?token=${String(welcome.reconnectToken)}`));

      await expect(back.nextOfType('welcome')).resolves.toMatchObject({ nickname: 'alice' });
      await expect(old.waitClosed()).resolves.toEqual({ code: 4002, reason: 'Replaced by a new connection' });
      await bob.next(joined('alice'));
      expect(bob.frames.slice(seen).filter((f) => f.type === 'notification').map((f) => `${String(f.event)} ${String(f.nickname)}`)).toEqual([
        'leave alice',
        'join alice',
      ]);
      await expect(onlineNames(server)).resolves.toEqual(['Guest1', 'alice']);
      bob.send('nick', { nickname: 'alice' });
      await expect(bob.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NICK_TAKEN',
        message: 'Nickname "alice" is already taken',
        event: 'nick',
      });
      await bob.expectNoMore('nick_update');
      expect(renames(bob)).toHaveLength(1); // alice's own rename from Guest2
    });

    it('ignores a used, an unknown and a malformed token: a fresh guest name, and no error frame', async () => {
      const { client: alice, welcome } = await named(server.wsUrl, 'alice', bob);
      const token = String(welcome.reconnectToken);
      await alice.close();
      const back = track(await ChatClient.connect(`${server.wsUrl}?token=${token}`));
      const current = await back.nextOfType('welcome');
      expect(current).toMatchObject({ nickname: 'alice' });

      for (const [url, nickname] of [
        [`${server.wsUrl}?token=${token}`, 'Guest3'],
        [`${server.wsUrl}?token=${'A'.repeat(43)}`, 'Guest4'],
        [`${server.wsUrl}?token=${String(current.reconnectToken)}%3D`, 'Guest5'],
      ]) {
        const { client, welcome: guest } = await ChatClient.join(url);
        track(client);
        expect(guest.nickname).toBe(nickname);
        await client.expectNoMore('error', 100);
      }
    });
  });

  it('frees the name once NICK_HOLD_MS has passed', async () => {
    const holdMs = 1500;
    const server = await startServer({ NICK_HOLD_MS: String(holdMs) });
    try {
      const bob = track((await ChatClient.join(server.wsUrl)).client);
      const { client: alice, welcome } = await named(server.wsUrl, 'alice', bob);
      await alice.close();
      await bob.next(left('alice'));
      const closedAt = Date.now();
      bob.send('nick', { nickname: 'alice' });
      await expect(bob.nextOfType('error')).resolves.toEqual(held('alice'));

      await new Promise((resolve) => setTimeout(resolve, holdMs - (Date.now() - closedAt) + 50));
      bob.send('nick', { nickname: 'alice' });
      await expect(bob.nextOfType('nick_update')).resolves.toMatchObject({ nickname: 'alice', previous: 'Guest1' });

      const late = track(await ChatClient.connect(`${server.wsUrl}?token=${String(welcome.reconnectToken)}`));
      await expect(late.nextOfType('welcome')).resolves.toMatchObject({ nickname: 'Guest3' });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await server.close();
    }
  });

  it('frees the name at once with NICK_HOLD_MS=0', async () => {
    const server = await startServer({ NICK_HOLD_MS: '0' });
    try {
      const bob = track((await ChatClient.join(server.wsUrl)).client);
      const { client: alice } = await named(server.wsUrl, 'alice', bob);
      await alice.close();
      await bob.next(left('alice'));

      bob.send('nick', { nickname: 'alice' });

      await expect(bob.nextOfType('nick_update')).resolves.toMatchObject({ nickname: 'alice', previous: 'Guest1' });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await server.close();
    }
  });

  it('refuses to start with a NICK_HOLD_MS out of range, naming it', async () => {
    const { code, output } = await runFailingServer({ PORT: '0', SQLITE_PATH: ':memory:', NICK_HOLD_MS: '-1' });

    expect(code).toBe(1);
    expect(output).toContain('NICK_HOLD_MS="-1": NICK_HOLD_MS must not be less than 0');
  });

  describe('in the logs of the built server', () => {
    let server: ServerProcess;

    beforeAll(async () => {
      server = await spawnServer({ SQLITE_PATH: ':memory:', LOG_LEVEL: 'trace', NICK_HOLD_MS: '30000' });
    });

    afterAll(async () => {
      server.child.kill('SIGTERM');
      await withTimeout(server.exited, 10000, 'server exit');
    });

    it('never shows a reconnect token, through a hold, a reconnect and a takeover', async () => {
      const bob = track((await ChatClient.join(server.wsUrl)).client);
      const first = await named(server.wsUrl, 'alice', bob);
      await first.client.close();
      await bob.next(left('alice'));
      const second = track(await ChatClient.connect(`${server.wsUrl}?since=0&token=${String(first.welcome.reconnectToken)}`));
      const secondWelcome = await second.nextOfType('welcome');
      const third = track(await ChatClient.connect(`${server.wsUrl}?token=${String(secondWelcome.reconnectToken)}`));
      const thirdWelcome = await third.nextOfType('welcome');
      await second.waitClosed();
      await third.close();
      // The close of the last connection is logged last: once it is there, every earlier line is too.
      const deadline = Date.now() + 5000;
      while ((server.output().match(/"msg":"connection close"/g) ?? []).length < 3) {
        if (Date.now() > deadline) throw new Error(`3 connection close lines not logged within 5000 ms:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      expect(thirdWelcome.nickname).toBe('alice');
      expect(server.output()).toContain('"msg":"connection open"');
      for (const token of [first.welcome.reconnectToken, secondWelcome.reconnectToken, thirdWelcome.reconnectToken]) {
        expect(token).toMatch(TOKEN);
        expect(server.output()).not.toContain(String(token));
      }
    });
  });
});

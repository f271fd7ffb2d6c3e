import { ChatClient } from './support/chat-client';
import { startServer, type TestServer } from './support/test-app';

describe('nicknames (e2e)', () => {
  let server: TestServer;
  let alice: ChatClient;
  let bob: ChatClient;

  beforeEach(async () => {
    server = await startServer();
    alice = (await ChatClient.join(server.wsUrl)).client;
    bob = (await ChatClient.join(server.wsUrl)).client;
    await alice.nextOfType('notification');
  });

  afterEach(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  it('broadcasts nick_update to everyone and uses the new name from then on', async () => {
    alice.send('nick', { nickname: 'alice' });

    const expected = { type: 'nick_update', nickname: 'alice', previous: 'Guest1', message: 'Guest1 is now known as alice' };
    await expect(alice.nextOfType('nick_update')).resolves.toEqual(expected);
    await expect(bob.nextOfType('nick_update')).resolves.toEqual(expected);

    alice.send('message', { message: 'as alice' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ nickname: 'alice', message: 'as alice' });
  });

  it('accepts Unicode letters such as 张三', async () => {
    alice.send('nick', { nickname: '张三' });
    await expect(bob.nextOfType('nick_update')).resolves.toMatchObject({ nickname: '张三', previous: 'Guest1' });
  });

  it('refuses a nickname held by another user, ignoring case, with NICK_TAKEN', async () => {
    alice.send('nick', { nickname: 'Alice' });
    await bob.nextOfType('nick_update');

    bob.send('nick', { nickname: 'aLiCe' });

    await expect(bob.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NICK_TAKEN',
      message: 'Nickname "aLiCe" is already taken',
      event: 'nick',
    });
    bob.send('nick', { nickname: 'ＡＬＩＣＥ' }); // full-width: the same name after NFKC
    await expect(bob.nextOfType('error')).resolves.toMatchObject({ code: 'NICK_TAKEN', event: 'nick' });
  });

  it('frees a nickname when its holder disconnects', async () => {
    alice.send('nick', { nickname: 'alice' });
    await bob.nextOfType('nick_update');
    await alice.close();

    bob.send('nick', { nickname: 'alice' });

    await expect(bob.nextOfType('nick_update')).resolves.toMatchObject({ nickname: 'alice', previous: 'Guest2' });
  });

  it('lets a user change the case of its own nickname', async () => {
    alice.send('nick', { nickname: 'alice' });
    await bob.nextOfType('nick_update');
    alice.send('nick', { nickname: 'Alice' });
    await expect(bob.nextOfType('nick_update')).resolves.toMatchObject({ nickname: 'Alice', previous: 'alice' });
  });

  it.each(['', 'a b', '<script>', 'x'.repeat(33), 'evil\u202Eexe', 'tab\there', 'zero\u200Bwidth', 42])(
    'rejects nickname %j with VALIDATION',
    async (nickname) => {
      alice.send('nick', { nickname });
      await expect(alice.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message: 'nickname must be 1 to 32 letters, digits, "_", "-" or "."',
        event: 'nick',
      });
      await bob.expectNoMore('nick_update', 100);
    },
  );
});

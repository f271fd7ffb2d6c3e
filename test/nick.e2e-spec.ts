import { ChatClient } from './support/chat-client';
import { getJson, startServer, type TestServer } from './support/test-app';

const CHARACTER_RULE = 'nickname must be 1 to 32 letters, digits, "_", "-" or "."';
const SCRIPT_RULE = 'nickname must use one script (Latin may be mixed only with Chinese, Japanese or Korean)';

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

  // When it is free again, and how the holder gets it back: test/nick-hold.e2e-spec.ts.
  it('holds a nickname for a reconnect when its holder disconnects', async () => {
    alice.send('nick', { nickname: 'alice' });
    await bob.nextOfType('nick_update');
    await alice.close();

    bob.send('nick', { nickname: 'alice' });

    await expect(bob.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'NICK_TAKEN',
      message: 'Nickname "alice" is held for a reconnecting user',
      event: 'nick',
    });
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
        message: CHARACTER_RULE,
        event: 'nick',
      });
      await bob.expectNoMore('nick_update', 100);
    },
  );

  it.each([
    ['the Hangul filler U+3164 alone', '\u3164'],
    ['the Hangul filler U+3164 after a name', 'alice\u3164'],
    ['the Hangul choseong filler U+115F', '\u115F'],
    ['the Hangul jungseong filler U+1160 inside a name', 'al\u1160ice'],
    ['the halfwidth Hangul filler U+FFA0', '\uFFA0\uFFA0'],
    ['a variation selector', 'alice\uFE0F'],
    ['a left-to-right mark', '\u200Ealice'],
  ])('rejects a nickname with an invisible character, %s, with VALIDATION', async (_label, nickname) => {
    alice.send('nick', { nickname });
    await expect(alice.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: CHARACTER_RULE, event: 'nick' });
    await bob.expectNoMore('nick_update', 100);
    await expect(getJson(`${server.httpUrl}/api/users`)).resolves.toMatchObject({ body: { users: [{ nickname: 'Guest1' }, { nickname: 'Guest2' }] } });
  });

  describe('look-alikes of a name online (UTS #39 confusables)', () => {
    beforeEach(async () => {
      alice.send('nick', { nickname: 'alice' });
      await bob.next((f) => f.type === 'nick_update' && f.nickname === 'alice');
    });

    it.each([
      ['upper case', 'ALICE'],
      ['a capital I for the l', 'aIice'],
      ['capitals A and I', 'AIice'],
      ['a digit 1 for the l', 'a1ice'],
      ['full-width letters', 'Ａｌｉｃｅ'],
      ['Cyrillic letters only (а, Ӏ, і, с, е)', 'аӀісе'],
    ])('refuses %s (%s) with NICK_TAKEN', async (_label, nickname) => {
      bob.send('nick', { nickname });
      await expect(bob.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NICK_TAKEN',
        message: `Nickname "${nickname}" is already taken`,
        event: 'nick',
      });
      await alice.expectNoMore('nick_update', 100);
    });

    it.each([
      ['a Cyrillic "а"', 'аlice'],
      ['a Greek "α"', 'αlice'],
    ])('refuses a Latin name with %s as mixing scripts, online or not', async (_label, nickname) => {
      bob.send('nick', { nickname });
      await expect(bob.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: SCRIPT_RULE, event: 'nick' });
      await alice.close();
      bob.send('nick', { nickname });
      await expect(bob.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: SCRIPT_RULE, event: 'nick' });
    });

    it('refuses "pаypal" (Cyrillic "а") although nobody is called paypal', async () => {
      bob.send('nick', { nickname: 'pаypal' });
      await expect(bob.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: SCRIPT_RULE, event: 'nick' });
    });

    it.each(['alice1', 'alise', 'Алиса', 'ALICE_2'])('accepts the different name %j', async (nickname) => {
      bob.send('nick', { nickname });
      await expect(alice.next((f) => f.type === 'nick_update' && f.previous === 'Guest2')).resolves.toMatchObject({ nickname });
    });

    it('holds every look-alike while the name is held after alice disconnects', async () => {
      await alice.close();
      bob.send('nick', { nickname: 'aIice' });
      await expect(bob.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NICK_TAKEN',
        message: 'Nickname "aIice" is held for a reconnecting user',
        event: 'nick',
      });
    });

    it('lets alice herself take a look-alike of her own name', async () => {
      alice.send('nick', { nickname: 'aIice' });
      await expect(bob.next((f) => f.type === 'nick_update' && f.previous === 'alice')).resolves.toMatchObject({ nickname: 'aIice' });
    });

    it('finds a direct message recipient by case, not by look-alike', async () => {
      bob.send('dm', { to: 'ALICE', message: 'hi', clientMsgId: 'd-1' });
      await expect(alice.nextOfType('direct')).resolves.toMatchObject({ from: 'Guest2', to: 'alice', message: 'hi' });
      bob.send('dm', { to: 'aIice', message: 'hi', clientMsgId: 'd-2' });
      await expect(bob.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'NO_SUCH_USER',
        message: 'No user named "aIice" is online',
        event: 'dm',
        clientMsgId: 'd-2',
      });
    });
  });
});

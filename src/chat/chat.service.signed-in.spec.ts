import { Logger } from '@nestjs/common';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import type { WelcomeFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { ChatFixture, type Client } from './chat-fixture';
import { ChatService } from './chat.service';

function identity(userId: string, nickname: string): Identity {
  return { userId, nickname, roles: [], expiresAt: Date.now() + 300_000 };
}

// Signed-in connections (AUTH_MODE=jwt) as far as issue 12's sign-in goes: named by their claims.
describe(`${ChatService.name} with signed-in connections`, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  async function signIn(who: Identity, url = '/'): Promise<Client> {
    const client = fixture.open(url, new FakeTransport(), who);
    await client.session.whenLive();
    return client;
  }

  const welcomeOf = (client: Client) => client.frames().find((f): f is WelcomeFrame => f.type === 'welcome');

  it('names the connection by its claims and keeps the identity on the session', async () => {
    const alice = await signIn(identity('u-1', 'Alice Smith'));
    expect(welcomeOf(alice)).toMatchObject({ nickname: 'Alice Smith', users: ['Alice Smith'] });
    expect(alice.session.identity).toMatchObject({ userId: 'u-1' });
  });

  it('lets two users share a display name', async () => {
    await signIn(identity('u-1', 'Alex'));
    const other = await signIn(identity('u-2', 'alex'));
    expect(welcomeOf(other)).toMatchObject({ nickname: 'alex', users: ['Alex', 'alex'], usersTotal: 2 });
  });

  it('ignores ?token= and holds no nickname for a reconnect', async () => {
    const guest = fixture.open();
    await guest.session.whenLive();
    const token = guest.session.reconnectToken;
    fixture.disconnect(guest);
    expect(fixture.hub.heldNicknames).toBe(1);

    const alice = await signIn(identity('u-1', 'Alice'), `/?token=${token}`);
    expect(welcomeOf(alice)?.nickname).toBe('Alice');
    expect(fixture.hub.heldNicknames).toBe(1); // the guest's hold was not redeemed

    fixture.disconnect(alice);
    expect(fixture.hub.heldNicknames).toBe(1);
  });

  it('refuses nick with FORBIDDEN and keeps the name', async () => {
    const alice = await signIn(identity('u-1', 'Alice'));
    expect(() => fixture.chat.rename(alice.session, 'bob')).toThrow(
      new ChatException(ErrorCode.FORBIDDEN, 'Your nickname comes from your sign-in (the identity provider); it cannot be changed here'),
    );
    expect(alice.session.nickname).toBe('Alice');
  });
});

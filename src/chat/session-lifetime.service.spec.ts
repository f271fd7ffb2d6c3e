import { Logger } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { claims, inSeconds, mintHs256, TEST_SECRET } from '../auth/token-fixture';
import { TokenVerifier } from '../auth/token-verifier';
import { FakeTransport } from '../hub/fake-transport';
import type { Hub } from '../hub/hub';
import { Session } from '../hub/session';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import type { Identity } from '../protocol/identity';
import { ChatFixture, type Client } from './chat-fixture';
import { EXPIRED_CLOSE_GRACE_MS, MAX_TIMER_MS, SessionLifetime } from './session-lifetime.service';

const EXPIRED = { code: 4001, reason: 'token expired', graceMs: EXPIRED_CLOSE_GRACE_MS };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function identity(overrides: Partial<Identity> = {}): Identity {
  return { userId: 'user-1', nickname: 'Alice Smith', roles: [], expiresAt: Date.now() + 300_000, ...overrides };
}

describe(SessionLifetime.name, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let sut: SessionLifetime;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const auth = new AuthService({ mode: 'jwt', verifier: new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' }) });
    fixture = await ChatFixture.open(metrics, { auth });
    sut = fixture.lifetime;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  async function signIn(who: Partial<Identity> = {}): Promise<Client> {
    const client = fixture.open('/', new FakeTransport(), identity(who));
    await client.session.whenLive();
    return client;
  }

  it('closes a signed-in connection with 4001 "token expired" at its expiry', async () => {
    const alice = await signIn({ expiresAt: Date.now() + 80 });
    expect(sut.tracked).toBe(1);
    await sleep(20);
    expect(alice.transport.closes).toEqual([]);
    await sleep(150);
    expect(alice.transport.closes).toEqual([EXPIRED]);
  });

  it('closes at once a connection whose token expired already (accepted within the clock tolerance)', async () => {
    const alice = await signIn({ expiresAt: Date.now() - 10_000 });
    await sleep(20);
    expect(alice.transport.closes).toEqual([EXPIRED]);
  });

  it('watches no anonymous connection', async () => {
    const guest = fixture.open();
    await guest.session.whenLive();
    expect(sut.tracked).toBe(0);
  });

  it('forgets a connection that closes: no timer left, no close at its expiry', async () => {
    const alice = await signIn({ expiresAt: Date.now() + 60 });
    fixture.disconnect(alice);
    expect(sut.tracked).toBe(0);
    await sleep(120);
    expect(alice.transport.closes).toEqual([]);
  });

  it('renews with a valid token of the same user: auth_ok, a later deadline, the new roles, the same name', async () => {
    const alice = await signIn({ expiresAt: Date.now() + 100, roles: ['user'] });
    const exp = inSeconds(600);
    const token = await mintHs256(claims({ sub: 'user-1', exp, roles: ['user', 'admin'], preferred_username: 'renamed' }));

    await expect(sut.renew(alice.session, token)).resolves.toEqual({ type: 'auth_ok', expiresAt: new Date(exp * 1000).toISOString() });
    await sleep(200);
    expect(alice.transport.closes).toEqual([]);
    expect(alice.session.identity).toEqual({ userId: 'user-1', nickname: 'Alice Smith', roles: ['user', 'admin'], expiresAt: exp * 1000 });
    expect(alice.session.nickname).toBe('Alice Smith');
    expect(sut.tracked).toBe(1);
  });

  it('refuses a token of another user with FORBIDDEN, and the connection keeps its deadline', async () => {
    const alice = await signIn({ expiresAt: Date.now() + 150 });
    const before = alice.session.identity;
    const mallory = await mintHs256(claims({ sub: 'user-2', exp: inSeconds(600) }));

    await expect(sut.renew(alice.session, mallory)).rejects.toThrow(
      new ChatException(ErrorCode.FORBIDDEN, 'That token is for another user; a connection stays with the user who opened it'),
    );
    expect(alice.session.identity).toBe(before);
    await sleep(250);
    expect(alice.transport.closes).toEqual([EXPIRED]);
  });

  it('refuses an invalid token with UNAUTHORIZED saying why, and changes nothing', async () => {
    const alice = await signIn();
    const before = alice.session.identity;
    const exp = inSeconds(-60);
    await expect(sut.renew(alice.session, await mintHs256(claims({ exp })))).rejects.toThrow(
      new ChatException(ErrorCode.UNAUTHORIZED, `The token expired at ${new Date(exp * 1000).toISOString()} (expired)`),
    );
    await expect(sut.renew(alice.session, 'nonsense')).rejects.toThrow(new ChatException(ErrorCode.UNAUTHORIZED, 'The token is not a well-formed signed JWT (malformed)'));
    expect(alice.session.identity).toBe(before);
    expect(alice.transport.closes).toEqual([]);
  });

  it('refuses auth on an anonymous connection with FORBIDDEN', async () => {
    const guest = fixture.open();
    await guest.session.whenLive();
    await expect(sut.renew(guest.session, await mintHs256())).rejects.toThrow(
      new ChatException(ErrorCode.FORBIDDEN, 'This connection is not signed in: the server runs without sign-in (AUTH_MODE=anonymous)'),
    );
  });

  it('clears every timer when the module is destroyed', async () => {
    await signIn();
    await signIn({ userId: 'user-2' });
    expect(sut.tracked).toBe(2);
    sut.onModuleDestroy();
    expect(sut.tracked).toBe(0);
  });
});

describe(`${SessionLifetime.name} timers`, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  function standalone(expiresInMs: number): { sut: SessionLifetime; transport: FakeTransport } {
    const transport = new FakeTransport();
    const session = new Session(1, transport, 'Alice', '127.0.0.1', { inc: () => undefined });
    session.identity = identity({ expiresAt: Date.now() + expiresInMs });
    const sut = new SessionLifetime({} as Hub, new AuthService({ mode: 'anonymous' }));
    sut.track(session);
    return { sut, transport };
  }

  it(`reaches an expiry beyond setTimeout's range (${MAX_TIMER_MS} ms) in steps, on time`, () => {
    jest.useFakeTimers();
    const { transport } = standalone(MAX_TIMER_MS + 60_000);
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(transport.closes).toEqual([]);
    jest.advanceTimersByTime(59_999);
    expect(transport.closes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(transport.closes).toEqual([EXPIRED]);
  });

  it('does not keep the process alive', () => {
    const spy = jest.spyOn(global, 'setTimeout');
    const { sut } = standalone(60_000);
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    sut.onModuleDestroy();
  });
});

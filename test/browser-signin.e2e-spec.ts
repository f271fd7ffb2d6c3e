import type { Page } from 'playwright-core';
import { ChatTabs, textOf, typeAndEnter, waitForMessage, waitForStatus, waitForText, waitUntil } from './support/browser';
import { TestIdentityProvider } from './support/identity-provider';
import { claims, inSeconds, mintHs256, TEST_SECRET } from './support/jwt';
import { startServer, type TestServer } from './support/test-app';

const JWT_ENV = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET } as const;
const SIGNED_OUT = 'Your sign-in has expired or is not valid. Sign in again.';
/** A token's `exp` is in whole seconds, and the page renews halfway through a short one. */
const SHORT_TOKEN_S = 4;
const EXPIRY_WAIT_MS = (SHORT_TOKEN_S + 3) * 1000;

/** A token of user `sub` named `name`, valid for `seconds`. */
function tokenFor(sub: string, name: string, seconds = 300): Promise<string> {
  return mintHs256(claims({ sub, preferred_username: name, exp: inSeconds(seconds) }));
}

/** The frames of `event` the page sent, parsed. */
function sentEvents(chat: ChatTabs, page: Page, event: string): Array<{ event: string; data: Record<string, unknown> }> {
  return chat.tabs
    .get(page)!
    .sent.map(({ payload }) => JSON.parse(payload) as { event: string; data: Record<string, unknown> })
    .filter((frame) => frame.event === event);
}

/**
 * Whether the page is connected, asked while it may be navigating (to the sign-in and back): the
 * page being replaced reads as not connected.
 */
async function connectedAcrossNavigations(page: Page): Promise<boolean> {
  return (await page.getByTestId('status').textContent({ timeout: 500 }).catch(() => '')) === 'Connected';
}

/**
 * The WebSocket connections a page opens (each attempt, refused or not) and closes: pass
 * `beforeLoad` to ChatTabs.open.
 */
function watchSockets(): { urls: string[]; closed: number; beforeLoad: (page: Page) => Promise<void> } {
  const seen = {
    urls: [] as string[],
    closed: 0,
    beforeLoad: (page: Page) => {
      page.on('websocket', (ws) => {
        seen.urls.push(ws.url());
        ws.on('close', () => (seen.closed += 1));
      });
      return Promise.resolve();
    },
  };
  return seen;
}

describe('web client: sign-in (e2e, Chromium, AUTH_MODE=jwt)', () => {
  const chat = new ChatTabs();
  let server: TestServer | undefined;
  let provider: TestIdentityProvider | undefined;

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  afterEach(async () => {
    await chat.closeTabs();
    await server?.close();
    await provider?.close();
    server = provider = undefined;
  });

  it('signs in with the token of the URL fragment, removes it from the address bar, shows who is signed in, and chats with another user', async () => {
    server = await startServer(JWT_ENV);
    const aliceToken = await tokenFor('alice-id', 'Alice Martin');
    const sockets = watchSockets();
    const alice = await chat.open(`${server.httpUrl}/#token=${aliceToken}`, { beforeLoad: sockets.beforeLoad });
    const bob = await chat.open(`${server.httpUrl}/#token=${await tokenFor('bob-id', 'bob')}`);

    // The fragment is gone, from the address bar and from the history entry, so it is not bookmarked.
    expect(alice.url()).toBe(`${server.httpUrl}/`);
    await expect(alice.evaluate('location.hash')).resolves.toBe('');
    await expect(alice.evaluate("sessionStorage.getItem('chat.accessToken')")).resolves.toBe(aliceToken);
    // Who is signed in, the user id on hover, and no way to change the name (it comes from the sign-in).
    await waitForText(alice, 'me', 'Alice Martin');
    await expect(alice.getByTestId('me').getAttribute('title')).resolves.toBe('User id: alice-id');
    await expect(textOf(alice, 'me-label')).resolves.toBe('Signed in as');
    await expect(alice.getByTestId('nick-input').isVisible()).resolves.toBe(false);
    await expect(alice.getByTestId('nick-button').isVisible()).resolves.toBe(false);
    await expect(alice.getByTestId('signin').isVisible()).resolves.toBe(false);

    await typeAndEnter(alice, 'hello from Alice');
    await waitForMessage(bob, 'hello from Alice');
    const line = bob.getByTestId('message').filter({ hasText: 'hello from Alice' }).locator('.author');
    await expect(line.textContent()).resolves.toBe('Alice Martin');
    await typeAndEnter(bob, 'hi Alice');
    await waitForMessage(alice, 'hi Alice');
    // The online list comes from GET /api/users, which answers only with the Authorization header.
    await waitUntil('both online', async () => (await alice.getByTestId('online-user').allTextContents()).length === 2);
    // The token went as the `bearer` subprotocol (a browser cannot send the header): never on the URL.
    expect(sockets.urls).toEqual([server.wsUrl]);
    expect(sentEvents(chat, alice, 'nick')).toEqual([]);

    // A reload keeps the sign-in: the token is kept for the tab.
    await alice.reload();
    await waitForStatus(alice, 'Connected');
    await waitForText(alice, 'me', 'Alice Martin');
    await waitForMessage(alice, 'hi Alice');
  });

  it('without a token goes to AUTH_LOGIN_URL with return_to, and comes back signed in', async () => {
    provider = await TestIdentityProvider.start(() => tokenFor('carol-id', 'Carol'));
    server = await startServer({ ...JWT_ENV, AUTH_LOGIN_URL: provider.loginUrl, AUTH_REFRESH_URL: provider.refreshUrl });
    const page = await chat.open(`${server.httpUrl}/`, { status: null });
    await waitUntil('back from the sign-in, connected', async () => provider!.hits('/login').length === 1 && (await connectedAcrossNavigations(page)));
    await waitForText(page, 'me', 'Carol');
    expect(provider.hits('/login')).toEqual([{ path: '/login', returnTo: `${server.httpUrl}/`, origin: undefined, cookie: undefined }]);
    expect(page.url()).toBe(`${server.httpUrl}/`);
  });

  it('says in plain words that an expired token is refused, with the sign-in link, and stops reconnecting', async () => {
    provider = await TestIdentityProvider.start(() => tokenFor('dave-id', 'Dave'));
    server = await startServer({ ...JWT_ENV, AUTH_LOGIN_URL: provider.loginUrl });
    const expired = await mintHs256(claims({ sub: 'dave-id', exp: inSeconds(-120) }));
    const sockets = watchSockets();
    const page = await chat.open(`${server.httpUrl}/#token=${expired}`, { status: 'Signed out', beforeLoad: sockets.beforeLoad });

    await waitForText(page, 'signin-text', SIGNED_OUT);
    await expect(textOf(page, 'signin-detail')).resolves.toMatch(/^The token expired at \d{4}-\d\d-\d\dT/);
    await expect(page.getByTestId('signin-link').getAttribute('href')).resolves.toBe(
      `${provider.loginUrl}?return_to=${encodeURIComponent(`${server.httpUrl}/`)}`,
    );
    await expect(page.getByTestId('signin-link').isVisible()).resolves.toBe(true);
    await expect(page.evaluate("sessionStorage.getItem('chat.accessToken')")).resolves.toBeNull();
    expect(provider.hits('/login')).toEqual([]); // a refused token is explained, not redirected away
    await page.waitForTimeout(1500); // the first reconnect would have come by now
    expect(sockets.urls).toHaveLength(1);
    await expect(textOf(page, 'status')).resolves.toBe('Signed out');

    // The link signs in again and comes back.
    await page.getByTestId('signin-link').click();
    await waitUntil('back from the sign-in, connected', async () => provider!.hits('/login').length === 1 && (await connectedAcrossNavigations(page)));
    await waitForText(page, 'me', 'Dave');
    expect(page.url()).toBe(`${server.httpUrl}/`);
  });

  it('a token signed with another key: the same plain words, and without AUTH_LOGIN_URL no link', async () => {
    server = await startServer(JWT_ENV);
    const forged = await mintHs256(claims({ sub: 'eve-id' }), 'another-secret-of-at-least-32-characters');
    const page = await chat.open(`${server.httpUrl}/#token=${forged}`, { status: 'Signed out' });
    await waitForText(page, 'signin-text', SIGNED_OUT);
    await expect(textOf(page, 'signin-detail')).resolves.not.toBe('');
    await expect(page.getByTestId('signin-link').isVisible()).resolves.toBe(false);
  });

  it('without a token and without AUTH_LOGIN_URL, says the chat needs a sign-in', async () => {
    server = await startServer(JWT_ENV);
    const page = await chat.open(`${server.httpUrl}/`, { status: 'Signed out' });
    await waitForText(page, 'signin-text', 'This chat needs you to sign in, and this page has no sign-in token. Open the chat through your sign-in link.');
    expect(chat.tabs.get(page)!.sent).toEqual([]);
  });

  it('renews a short-lived token from AUTH_REFRESH_URL through `auth` and stays connected past its exp', async () => {
    provider = await TestIdentityProvider.start(() => tokenFor('frank-id', 'Frank', 300));
    server = await startServer({ ...JWT_ENV, AUTH_REFRESH_URL: provider.refreshUrl });
    const sockets = watchSockets();
    const page = await chat.open(`${server.httpUrl}/#token=${await tokenFor('frank-id', 'Frank', SHORT_TOKEN_S)}`, { beforeLoad: sockets.beforeLoad });

    await waitUntil('auth_ok', () => Promise.resolve(chat.received(page, 'auth_ok')), EXPIRY_WAIT_MS);
    const [auth] = sentEvents(chat, page, 'auth');
    expect(auth.data.token).toBe(await page.evaluate("sessionStorage.getItem('chat.accessToken')"));
    expect(provider.hits('/refresh')).toHaveLength(1);
    expect(provider.hits('/refresh')[0].origin).toBe(server.httpUrl); // a CORS request from the page
    await page.waitForTimeout(EXPIRY_WAIT_MS - 2000); // past the first token's exp
    await expect(textOf(page, 'status')).resolves.toBe('Connected');
    expect(sockets.urls).toHaveLength(1); // never closed: the `auth` moved the deadline
    await typeAndEnter(page, 'still here');
    await waitForMessage(page, 'still here');
  });

  it('at 4001 (token expired) renews once and reconnects', async () => {
    provider = await TestIdentityProvider.start(() => tokenFor('gina-id', 'Gina', 300));
    provider.refreshMode = 'hold'; // the renewal ahead of exp gets no answer in time
    server = await startServer({ ...JWT_ENV, AUTH_REFRESH_URL: provider.refreshUrl });
    const sockets = watchSockets();
    const page = await chat.open(`${server.httpUrl}/#token=${await tokenFor('gina-id', 'Gina', SHORT_TOKEN_S)}`, { beforeLoad: sockets.beforeLoad });
    await typeAndEnter(page, 'before expiry');
    await waitForMessage(page, 'before expiry');

    await waitUntil('the close at exp', () => Promise.resolve(sockets.closed === 1), EXPIRY_WAIT_MS);
    provider.release(); // the answer comes now, after the close: the page reconnects with it
    await waitUntil('a second connection', () => Promise.resolve(sockets.urls.length === 2));
    await waitForStatus(page, 'Connected');
    await expect(page.getByTestId('signin').isVisible()).resolves.toBe(false);
    expect(provider.hits('/refresh')).toHaveLength(1); // the renewal on its way was shared, not repeated
    await typeAndEnter(page, 'after expiry');
    await waitForMessage(page, 'after expiry');
  });

  it('at 4001 with no new token to be had, says so in plain words', async () => {
    provider = await TestIdentityProvider.start(() => tokenFor('hal-id', 'Hal', 300));
    provider.refreshMode = 'fail';
    server = await startServer({ ...JWT_ENV, AUTH_REFRESH_URL: provider.refreshUrl });
    const page = await chat.open(`${server.httpUrl}/#token=${await tokenFor('hal-id', 'Hal', SHORT_TOKEN_S)}`);
    await waitForText(page, 'signin-text', SIGNED_OUT, EXPIRY_WAIT_MS);
    await expect(textOf(page, 'status')).resolves.toBe('Signed out');
    expect(sentEvents(chat, page, 'auth')).toEqual([]);
    expect(provider.hits('/refresh').length).toBeGreaterThanOrEqual(2); // ahead of exp, and once more at the close
  });
});

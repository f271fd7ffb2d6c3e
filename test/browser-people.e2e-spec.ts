import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import {
  ChatTabs,
  joinRoom,
  setNick,
  TestLink,
  textOf,
  typeAndEnter,
  WAIT_MS,
  waitForMessage,
  waitForStatus,
  waitForText,
  waitForUsers,
  waitUntil,
} from './support/browser';
import { ChatClient, withTimeout } from './support/chat-client';
import { startServer, type TestServer } from './support/test-app';

const RECONNECT_WAIT_MS = 20000;
/** After a leave the client fetches GET /api/users again within about this long (online.js). */
const ONLINE_REFRESH_WAIT_MS = 4000;
/** Names the online list fetches at first and per "Show more" (online.js). */
const ONLINE_PAGE = 100;

/** The online list as shown, "(you)" marker included. */
function onlineNames(page: Page): Promise<string[]> {
  return page.getByTestId('online-user').allTextContents();
}

async function waitForOnline(page: Page, expected: string[], timeout = WAIT_MS): Promise<void> {
  const want = JSON.stringify(expected);
  await waitUntil(`online list ${want}`, async () => JSON.stringify(await onlineNames(page)) === want, timeout);
}

/** The notices shown in the conversation on screen, in order (collapsed groups as their one line). */
async function noticeTexts(page: Page): Promise<string[]> {
  return (await page.getByTestId('notice').allTextContents()).filter((text) => text !== '');
}

/** A client connected to general and renamed. */
async function person(server: TestServer, nickname: string): Promise<ChatClient> {
  const { client } = await ChatClient.join(server.wsUrl);
  client.send('nick', { nickname });
  await client.next((f) => f.type === 'nick_update' && f.nickname === nickname);
  return client;
}

describe('web client: people and notices (e2e, Chromium)', () => {
  const chat = new ChatTabs();
  let server: TestServer;
  let clients: ChatClient[];

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  beforeEach(async () => {
    server = await startServer();
    clients = [];
  });

  afterEach(async () => {
    await chat.closeTabs();
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  it('lists everyone online, in any room, and a direct message can go to anyone on it', async () => {
    const page = await chat.open(server.httpUrl);
    await setNick(page, 'alice');
    await joinRoom(page, 'eng');
    const bob = await person(server, 'bob');
    const carol = await person(server, 'carol');
    clients.push(bob, carol);
    carol.send('leave', { room: 'general' }); // in no room at all now, still online
    const dave = await person(server, 'dave');
    await dave.close(); // gone: the page fetches the list again after his leave

    await waitForOnline(page, ['alice (you)', 'bob', 'carol'], ONLINE_REFRESH_WAIT_MS + WAIT_MS);
    await waitForText(page, 'online-count', '3');
    // The room on screen lists its members only.
    await waitForUsers(page, ['alice']);
    expect(await textOf(page, 'conversation-title')).toBe('#eng');

    await page.getByTestId('online-users').getByRole('button', { name: 'carol', exact: true }).click();
    await waitForText(page, 'conversation-title', '@carol');
    await typeAndEnter(page, 'found you on the online list');
    await waitForMessage(page, 'found you on the online list');
    await expect(carol.next((f) => f.type === 'direct')).resolves.toMatchObject({ from: 'alice', to: 'carol', message: 'found you on the online list' });

    // Renames follow at once.
    bob.send('nick', { nickname: 'robert' });
    await waitForOnline(page, ['alice (you)', 'carol', 'robert']);
  });

  it(`pages a long online list: the first ${ONLINE_PAGE}, "and N more", then the rest from GET /api/users`, async () => {
    const OTHERS = ONLINE_PAGE + 50;
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < OTHERS; i += 1) {
        const socket = new WebSocket(server.wsUrl, { perMessageDeflate: false });
        sockets.push(socket);
        await withTimeout(new Promise((resolve, reject) => socket.once('message', resolve).once('error', reject)), WAIT_MS, 'welcome');
      }
      const page = await chat.open(server.httpUrl);
      await waitForText(page, 'online-count', String(OTHERS + 1));
      // The first page, and this page itself (it connected last, so it is not on that page).
      await waitUntil('the first page', async () => (await onlineNames(page)).length === ONLINE_PAGE + 1);
      expect((await onlineNames(page))[0]).toBe(`Guest${OTHERS + 1} (you)`);
      const more = page.getByTestId('online-more');
      await expect(more.textContent()).resolves.toMatch(/^and 50 more/);

      await more.getByRole('button', { name: /Show more/ }).dispatchEvent('click');
      await waitUntil('the whole list', async () => (await onlineNames(page)).length === OTHERS + 1);
      expect(await more.count()).toBe(0);
      const names = (await onlineNames(page)).slice(1);
      expect(new Set(names).size).toBe(OTHERS);
      expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    } finally {
      for (const socket of sockets) socket.terminate();
    }
  });

  it('collapses joins, leaves and renames into one line each ("ann, ben and 2 others joined"), and never shows your own join', async () => {
    const page = await chat.open(server.httpUrl);
    const crowd: ChatClient[] = [];
    for (const name of ['ann', 'ben', 'cal', 'dee']) crowd.push(await person(server, name));
    clients.push(...crowd);
    await waitForUsers(page, ['Guest1', 'ann', 'ben', 'cal', 'dee']);
    const joined = page.getByTestId('notice').filter({ hasText: 'ann, ben and 2 others joined' });
    await joined.waitFor();
    // Hovering it lists each event.
    await expect(joined.getAttribute('title')).resolves.toBe(
      ['Guest2 joined', 'Guest2 is now known as ann', 'Guest3 joined', 'Guest3 is now known as ben'].join('\n') +
        '\n' +
        ['Guest4 joined', 'Guest4 is now known as cal', 'Guest5 joined', 'Guest5 is now known as dee'].join('\n'),
    );

    await typeAndEnter(page, 'a message ends the group');
    await waitForMessage(page, 'a message ends the group');
    for (const client of crowd.slice(0, 3)) await client.close(); // one after the other: names in that order
    await waitForUsers(page, ['Guest1', 'dee']);
    await page.getByTestId('notice').filter({ hasText: 'ann, ben and cal left' }).waitFor();
    await typeAndEnter(page, 'and another');
    await waitForMessage(page, 'and another');
    crowd[3].send('nick', { nickname: 'dora' });
    await page.getByTestId('notice').filter({ hasText: 'dee is now known as dora' }).waitFor();

    expect(await noticeTexts(page)).toEqual([
      'Welcome, Guest1',
      'No messages in #general yet.',
      'ann, ben and 2 others joined',
      'ann, ben and cal left',
      'dee is now known as dora',
    ]);
  });

  it('after its own reconnect shows no join, rename or replayed notice of its own; the others see one "rejoined" line', async () => {
    const link = new TestLink();
    const bob = await chat.open(server.httpUrl, { beforeLoad: link.route });
    const alice = await chat.open(server.httpUrl);
    await setNick(bob, 'bob');
    await setNick(alice, 'alice');
    await joinRoom(bob, 'eng');
    await typeAndEnter(bob, 'seen before the drop');
    await waitForMessage(bob, 'seen before the drop');
    await typeAndEnter(alice, 'general before the drop');
    await waitForMessage(alice, 'general before the drop');
    await alice.getByTestId('message').filter({ hasText: 'general before the drop' }).waitFor();
    const aliceBefore = await noticeTexts(alice);
    const bobBefore: Record<string, string[]> = {};
    for (const room of ['general', 'eng']) {
      await bob.locator(`[data-testid="room-item"][data-room="${room}"]`).getByRole('button').click();
      await waitForText(bob, 'conversation-title', `#${room}`);
      bobBefore[room] = await noticeTexts(bob);
    }

    await link.drop();
    await waitForStatus(bob, 'Disconnected — reconnecting…');
    await waitForStatus(bob, 'Connected', RECONNECT_WAIT_MS);
    await waitForText(bob, 'me', 'bob');
    await waitForOnline(alice, ['alice (you)', 'bob'], ONLINE_REFRESH_WAIT_MS + WAIT_MS);
    await waitUntil("alice's notice of bob's reconnect", async () => (await noticeTexts(alice)).length > aliceBefore.length);
    await bob.waitForTimeout(500); // time for anything else the reconnect would bring

    // bob: in each room, nothing new but the reconnection itself (in general).
    expect(await noticeTexts(bob)).toEqual([...bobBefore.eng]);
    await bob.locator('[data-testid="room-item"][data-room="general"]').getByRole('button').click();
    await waitForText(bob, 'conversation-title', '#general');
    expect(await noticeTexts(bob)).toEqual([...bobBefore.general, 'Reconnected.']);
    // alice: one line for bob's leave, his guest name's join and his rename back.
    expect(await noticeTexts(alice)).toEqual([...aliceBefore, 'bob rejoined']);
  }, 60000);

  it('says in plain words why a nickname that mixes scripts is refused', async () => {
    const page = await chat.open(server.httpUrl);
    const error = page.getByTestId('error');

    await setNick(page, 'p\u0430ypal'); // a Cyrillic "а" among Latin letters
    await error.waitFor({ state: 'visible' });
    await expect(textOf(page, 'error-text')).resolves.toBe(
      'That nickname mixes scripts: use the letters of one script (Latin may be mixed only with Chinese, Japanese or Korean).',
    );
  }, 30000);

  it('clears the error banner as soon as a later request succeeds, and not before', async () => {
    const page = await chat.open(server.httpUrl);
    const taken = await person(server, 'alice');
    clients.push(taken);
    const error = page.getByTestId('error');

    await setNick(page, 'ALICE');
    await error.waitFor({ state: 'visible' });
    await expect(textOf(page, 'error-text')).resolves.toBe('Nickname "ALICE" is already taken. Please pick another nickname.');
    // Someone else's message is no success of ours: the banner stays.
    taken.send('message', { message: 'not your request' });
    await waitForMessage(page, 'not your request');
    await expect(error.isVisible()).resolves.toBe(true);

    await setNick(page, 'bob');
    await error.waitFor({ state: 'hidden' });
    await waitForText(page, 'me', 'bob');

    // A direct message to someone offline, then a message that goes through.
    await page.getByTestId('online-users').getByRole('button', { name: 'alice', exact: true }).click();
    await taken.close();
    await waitForOnline(page, ['bob (you)'], ONLINE_REFRESH_WAIT_MS + WAIT_MS);
    await typeAndEnter(page, 'are you there?');
    await error.waitFor({ state: 'visible' });
    await page.locator('[data-testid="room-item"][data-room="general"]').getByRole('button').click();
    await typeAndEnter(page, 'back in general');
    await waitForMessage(page, 'back in general');
    await error.waitFor({ state: 'hidden' });
  });
});

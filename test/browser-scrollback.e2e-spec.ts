import type { Page } from 'playwright-core';
import { ChatTabs, messageIds, seedMessages, typeAndEnter, WAIT_MS, waitForMessage, waitUntil } from './support/browser';
import { startServer, type TestServer } from './support/test-app';

const MESSAGES = 10_000;
/** The most entries the client keeps in the DOM (scroller.js WINDOW_MAX). */
const WINDOW_MAX = 400;
/** Older messages asked for per scroll to the top (scrollback.js OLDER_PAGE). */
const OLDER_PAGE = 100;
const SENDERS = ['alice', 'bob', 'carol', 'dave'];

interface TopOfView {
  id: number;
  /** Where the message starts, in px below the top of the visible part of the log. */
  offset: number;
  scrollTop: number;
}

/** Scrolls the log to its top, at once, and says which message is then at the top of the view. */
function scrollToTop(page: Page): Promise<TopOfView> {
  return page.evaluate(`(() => {
    const log = document.querySelector('[data-testid="messages"]');
    log.scrollTop = 0;
    const first = log.querySelector('[data-testid="message"]');
    return { id: Number(first.dataset.id), offset: first.getBoundingClientRect().top - log.getBoundingClientRect().top, scrollTop: log.scrollTop };
  })()`);
}

/** Where the message with this id is now, in px below the top of the visible part of the log (null: not in the DOM). */
function offsetOf(page: Page, id: number): Promise<number | null> {
  return page.evaluate(`(() => {
    const log = document.querySelector('[data-testid="messages"]');
    const item = log.querySelector('[data-testid="message"][data-id="${id}"]');
    return item ? item.getBoundingClientRect().top - log.getBoundingClientRect().top : null;
  })()`);
}

function elementCount(page: Page): Promise<number> {
  return page.evaluate('document.getElementsByTagName("*").length');
}

/** The `history` requests the page sent, in order. */
function historyRequests(chat: ChatTabs, page: Page): Array<Record<string, unknown>> {
  return chat.tabs
    .get(page)!
    .sent.map(({ payload }) => JSON.parse(payload) as { event: string; data: Record<string, unknown> })
    .filter((frame) => frame.event === 'history')
    .map((frame) => frame.data);
}

describe('web client: scrollback (e2e, Chromium)', () => {
  const chat = new ChatTabs();
  let server: TestServer;

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  beforeEach(async () => {
    server = await startServer();
    const start = Date.now() - MESSAGES * 60_000;
    await seedMessages(
      server,
      Array.from({ length: MESSAGES }, (_, i) => ({
        nickname: SENDERS[Math.floor(i / 3) % SENDERS.length], // three in a row from each: grouped
        body: i % 10 === 0 ? `message ${i + 1}\nwith a **second** line` : `message ${i + 1}`,
        sentAt: new Date(start + i * 60_000),
      })),
    );
  });

  afterEach(async () => {
    await chat.closeTabs();
    await server.close();
  });

  it(`scrolls back through ${MESSAGES} messages with history paging: older ones appear, the reader keeps their place, the DOM stays bounded`, async () => {
    const page = await chat.open(server.httpUrl);
    await waitForMessage(page, `message ${MESSAGES}`);
    const baseline = await elementCount(page);
    let oldest = (await messageIds(page))[0];
    expect(oldest).toBe(MESSAGES - 49); // the welcome history: the newest 50

    // To the top, again and again, until the start of the room: each time older messages come in
    // above, and the message that was at the top of the view stays where it was.
    let rounds = 0;
    for (;;) {
      const top = await scrollToTop(page);
      expect(top.scrollTop).toBe(0);
      if (top.id === 1) break;
      await waitUntil(`messages older than ${top.id}`, async () => (await messageIds(page))[0] < top.id);
      const offset = await offsetOf(page, top.id);
      expect(Math.abs(offset! - top.offset)).toBeLessThanOrEqual(1);
      const ids = await messageIds(page);
      expect(ids.length).toBeLessThanOrEqual(WINDOW_MAX);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0] + i)); // in order, none missing
      oldest = Math.min(oldest, ids[0]);
      rounds += 1;
    }
    expect(rounds).toBeGreaterThanOrEqual((MESSAGES - 50) / OLDER_PAGE);
    await page.getByTestId('log-start').filter({ hasText: 'This is the start of #general.' }).waitFor();
    // Paged with `before` = the oldest id loaded, OLDER_PAGE at a time, each page asked for once.
    const requests = historyRequests(chat, page);
    expect(requests.length).toBe(Math.ceil((MESSAGES - 50) / OLDER_PAGE));
    expect(requests[0]).toEqual({ room: 'general', before: MESSAGES - 49, limit: OLDER_PAGE });
    expect(requests.map((r) => r.before)).toEqual(requests.map((_, i) => MESSAGES - 49 - i * OLDER_PAGE));
    // Ten thousand messages loaded; the DOM holds a window of them.
    expect((await messageIds(page)).length).toBeLessThanOrEqual(WINDOW_MAX);
    expect(await elementCount(page)).toBeLessThan(baseline + WINDOW_MAX * 12);

    // Back down: "Jump to latest" brings the newest messages, and new ones show there again.
    const jump = page.getByTestId('jump-latest');
    await jump.waitFor();
    await jump.click();
    await waitUntil('the newest message', async () => (await messageIds(page)).at(-1) === MESSAGES);
    await typeAndEnter(page, 'back at the bottom');
    await waitForMessage(page, 'back at the bottom');
    await jump.waitFor({ state: 'hidden' });
    expect((await messageIds(page)).length).toBeLessThanOrEqual(WINDOW_MAX);
  }, 180_000);

  it('scrolled back, slides down through what it loaded, message by message in order, to the newest', async () => {
    const page = await chat.open(server.httpUrl);
    await waitForMessage(page, `message ${MESSAGES}`);
    for (let round = 0; round < 8; round += 1) {
      const top = await scrollToTop(page);
      await waitUntil(`messages older than ${top.id}`, async () => (await messageIds(page))[0] < top.id);
    }
    const first = (await messageIds(page))[0];
    expect(first).toBeLessThanOrEqual(MESSAGES - 49 - 8 * OLDER_PAGE);
    // The window no longer reaches the newest message: scrolling down brings the rest from memory.
    expect((await messageIds(page)).at(-1)).toBeLessThan(MESSAGES);
    const before = historyRequests(chat, page).length;
    let last = 0;
    const deadline = Date.now() + 60_000;
    while (last !== MESSAGES) {
      expect(Date.now()).toBeLessThan(deadline);
      await page.evaluate('(() => { const log = document.querySelector(\'[data-testid="messages"]\'); log.scrollTop = log.scrollHeight; })()');
      await page.waitForTimeout(100);
      const ids = await messageIds(page);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0] + i));
      expect(ids.length).toBeLessThanOrEqual(WINDOW_MAX);
      last = ids.at(-1)!;
    }
    expect(historyRequests(chat, page).length).toBe(before); // nothing fetched again
    await page.getByTestId('jump-latest').waitFor({ state: 'hidden', timeout: WAIT_MS });
  }, 120_000);
});

import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page, type WebSocketRoute } from 'playwright-core';
import { DataSource } from 'typeorm';
import type { TestServer } from './test-app';

/** Debian's chromium (`apt-get install chromium`); Playwright's own browser download does not work here. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const WAIT_MS = 5000;

/** Each launch runs on a fresh temporary user-data dir; give each page its own context on top. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 15000 });
}

export const DESKTOP = { width: 960, height: 600 };
export const PHONE = { width: 375, height: 667 };

/** One open chat tab, with what it reported that a test must not ignore, and every frame it received and sent. */
export interface ChatPage {
  page: Page;
  dialogs: string[];
  pageErrors: string[];
  received: string[];
  sent: Array<{ payload: string; at: number }>;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** Runs on the new page before it loads (to route its WebSocket, install a clock ...). */
  beforeLoad?: (page: Page) => Promise<void>;
  /** More options for the page's browser context (colorScheme, timezoneId, locale ...). */
  context?: BrowserContextOptions;
  /** The status open() waits for once the page has loaded: 'Connected' by default; null: none. */
  status?: string | null;
}

/**
 * The browser of a suite and the chat tabs it opened: each tab in a context of its own, recording
 * its frames, dialogs and page errors. Call launch() in beforeAll, closeTabs() in afterEach (before
 * the server goes) and close() in afterAll.
 */
export class ChatTabs {
  readonly tabs = new Map<Page, ChatPage>();
  private browser: Browser | undefined;

  async launch(): Promise<void> {
    this.browser = await launchChromium();
  }

  async close(): Promise<void> {
    await this.browser?.close();
  }

  async open(origin: string, { viewport = DESKTOP, beforeLoad, context, status = 'Connected' }: OpenOptions = {}): Promise<Page> {
    const browserContext = await this.browser!.newContext({ viewport, ...context });
    const page = await browserContext.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await beforeLoad?.(page);
    const tab: ChatPage = { page, dialogs: [], pageErrors: [], received: [], sent: [] };
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => tab.received.push(payload.toString()));
      ws.on('framesent', ({ payload }) => tab.sent.push({ payload: payload.toString(), at: Date.now() }));
    });
    page.on('dialog', (dialog) => {
      tab.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => tab.pageErrors.push(error.message));
    this.tabs.set(page, tab);
    const response = await page.goto(origin);
    expect(response?.status()).toBe(200);
    if (status !== null) await waitForStatus(page, status);
    return page;
  }

  /** Closes tabs (all by default) before their server goes away; fails if any page opened a dialog or threw. */
  async closeTabs(pages: Page[] = [...this.tabs.keys()]): Promise<void> {
    const closing = pages.map((page) => this.tabs.get(page)).filter((tab) => tab !== undefined);
    for (const { page } of closing) this.tabs.delete(page);
    await Promise.all(closing.map(({ page }) => page.context().close()));
    for (const { dialogs, pageErrors } of closing) {
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
    }
  }

  /** Whether any frame the tab's socket received mentions `text` (frames are JSON, so quotes are escaped). */
  received(page: Page, text: string): boolean {
    const needle = JSON.stringify(text).slice(1, -1);
    return this.tabs.get(page)!.received.some((payload) => payload.includes(needle));
  }
}

/**
 * Routes a page's WebSocket through the test (pass `route` as beforeLoad): `drop()` cuts the live
 * connection (closing the server side closes the page side too), and while `refuse` is set every
 * reconnect is turned away with close code 4000.
 */
export class TestLink {
  refuse = false;
  private upstream: WebSocketRoute | undefined;

  readonly route = (page: Page): Promise<void> =>
    page.routeWebSocket(/^ws:/, (ws) => {
      if (this.refuse) return ws.close({ code: 4000, reason: 'refused by the test' });
      this.upstream = ws.connectToServer();
    });

  async drop(): Promise<void> {
    await this.upstream?.close();
  }
}

export interface SeedMessage {
  room?: string;
  nickname: string;
  body: string;
  sentAt: Date;
}

/** Writes messages straight into the server's database (oldest first), with the times given. */
export async function seedMessages(server: TestServer, messages: SeedMessage[]): Promise<void> {
  const db = server.app.get(DataSource);
  const ROWS = 200; // 4 parameters each, well under SQLite's limit per statement
  await db.transaction(async (manager) => {
    for (let at = 0; at < messages.length; at += ROWS) {
      const batch = messages.slice(at, at + ROWS);
      await manager.query(
        `INSERT INTO messages (room, nickname, body, sent_at) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')}`,
        batch.flatMap((m) => [m.room ?? 'general', m.nickname, m.body, m.sentAt.toISOString()]),
      );
    }
    await manager.query(
      'INSERT INTO rooms (name, last_message_id) SELECT room, MAX(id) FROM messages GROUP BY room ' +
        'ON CONFLICT (name) DO UPDATE SET last_message_id = excluded.last_message_id',
    );
  });
}

/** Polls `check` every 50 ms until it holds; fails naming `what` after `timeout` ms. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeout = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitForStatus(page: Page, text: string, timeout = WAIT_MS): Promise<void> {
  const status = page.getByTestId('status');
  await waitUntil(`status "${text}"`, async () => (await status.textContent()) === text, timeout);
}

export async function typeAndEnter(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
}

export async function setNick(page: Page, nickname: string): Promise<void> {
  await page.getByTestId('nick-input').fill(nickname);
  await page.getByTestId('nick-button').click();
}

/** The message bodies on the page, in order, exactly as rendered (textContent). */
export function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message').locator('.body').allTextContents();
}

export async function waitForMessage(page: Page, text: string): Promise<void> {
  await waitUntil(`message ${JSON.stringify(text)}`, async () => (await messageTexts(page)).includes(text));
}

/** Waits until the online list holds exactly `expected` (names without the "(you)" marker). */
export async function waitForUsers(page: Page, expected: string[], timeout = WAIT_MS): Promise<void> {
  const want = JSON.stringify([...expected].sort());
  const names = async () => (await page.getByTestId('user').allTextContents()).map((t) => t.replace(/ \(you\)$/, ''));
  await waitUntil(`users ${want}`, async () => JSON.stringify((await names()).sort()) === want, timeout);
}

/** Text of the element with this data-testid ('' when it has none). */
export async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

export async function waitForText(page: Page, testId: string, text: string, timeout = WAIT_MS): Promise<void> {
  await waitUntil(`${testId} to read ${JSON.stringify(text)}`, async () => (await textOf(page, testId)) === text, timeout);
}

/** Joins a room through the join form; done once the room is on screen with its presence (this user listed). */
export async function joinRoom(page: Page, room: string): Promise<void> {
  await page.getByTestId('join-input').fill(room);
  await page.getByTestId('join-input').press('Enter');
  await waitForText(page, 'conversation-title', `#${room}`);
  await waitForText(page, 'people-room', `#${room}`);
  await page.locator('.user.me').waitFor();
}

/** The entry of a room in the room list, or of a direct conversation in the DM list. */
export function roomEntry(page: Page, room: string): Locator {
  return page.locator(`[data-testid="room-item"][data-room="${room}"]`);
}

export function dmEntry(page: Page, peer: string): Locator {
  return page.locator(`[data-testid="dm-item"][data-peer="${peer}"]`);
}

export async function openRoom(page: Page, room: string): Promise<void> {
  await roomEntry(page, room).getByRole('button').click();
  await waitForText(page, 'conversation-title', `#${room}`);
}

/** The room list as shown ("#general", ...), in order. */
export function roomTitles(page: Page): Promise<string[]> {
  return page.getByTestId('room-item').locator('.conversation-name').allTextContents();
}

/** The unread badge of a room or DM entry: its number, or 0 while it is hidden. */
export async function unreadOf(entry: Locator): Promise<number> {
  const badge = entry.getByTestId('unread');
  return (await badge.isVisible()) ? Number(await badge.textContent()) : 0;
}

/** The ids of the messages on screen (the visible conversation), in order. */
export async function messageIds(page: Page): Promise<number[]> {
  // A string expression: this project's TypeScript has no DOM types.
  const ids = await page.evaluate('Array.from(document.querySelectorAll(\'[data-testid="message"]\'), (el) => Number(el.dataset.id))');
  return ids as number[];
}

/** Own messages still on their way (shown as sending, queued or not sent), in order. */
export function pendingTexts(page: Page): Promise<string[]> {
  return page.getByTestId('pending-message').locator('.body').allTextContents();
}

export interface StoredMessage {
  id: number;
  room: string;
  nickname: string;
  message: string;
  clientMsgId?: string;
}

/** Every stored message of a room, oldest first, paged backwards over GET /api/messages. */
export async function storedMessages(origin: string, room = 'general'): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let before: number | undefined;
  for (;;) {
    const query = new URLSearchParams({ room, limit: '200', ...(before === undefined ? {} : { before: String(before) }) });
    const res = await fetch(`${origin}/api/messages?${query.toString()}`, { signal: AbortSignal.timeout(WAIT_MS) });
    if (res.status !== 200) throw new Error(`GET /api/messages answered ${res.status}`);
    const page = (await res.json()) as { messages: StoredMessage[]; hasMore: boolean };
    all.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    before = page.messages[0].id;
  }
}

import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

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

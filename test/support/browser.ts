import { chromium, type Browser, type Page } from 'playwright-core';

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
export async function waitForUsers(page: Page, expected: string[]): Promise<void> {
  const want = JSON.stringify([...expected].sort());
  const names = async () => (await page.getByTestId('user').allTextContents()).map((t) => t.replace(/ \(you\)$/, ''));
  await waitUntil(`users ${want}`, async () => JSON.stringify((await names()).sort()) === want);
}

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { DEFAULT_PAGE_SIZE } from '../src/messages/page-query.dto';
import {
  launchChromium,
  messageTexts,
  setNick,
  typeAndEnter,
  WAIT_MS,
  waitForMessage,
  waitForStatus,
  waitForUsers,
} from './support/browser';
import { ChatClient, withTimeout } from './support/chat-client';
import { freePort, spawnServer, type ServerProcess } from './support/server-process';
import { startServer, type TestServer } from './support/test-app';

const RECONNECT_WAIT_MS = 20000;
const DESKTOP = { width: 960, height: 600 };
const PHONE = { width: 375, height: 667 };
const XSS = '<img src=x onerror=alert(1)>';

/** One open chat tab, with what it reported that a test must not ignore. */
interface ChatPage {
  page: Page;
  dialogs: string[];
  pageErrors: string[];
}

describe('web client in a real browser (e2e)', () => {
  let browser: Browser;
  const tabs = new Map<Page, ChatPage>();

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Closes every tab before its server goes away; fails if any page opened a dialog or threw. */
  async function closeTabs(): Promise<void> {
    const open = [...tabs.values()];
    tabs.clear();
    await Promise.all(open.map(({ page }) => page.context().close()));
    for (const { dialogs, pageErrors } of open) {
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
    }
  }

  async function openChat(origin: string, viewport = DESKTOP, beforeLoad?: (page: Page) => Promise<void>): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await beforeLoad?.(page);
    const tab: ChatPage = { page, dialogs: [], pageErrors: [] };
    page.on('dialog', (dialog) => {
      tab.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => tab.pageErrors.push(error.message));
    tabs.set(page, tab);
    const response = await page.goto(origin);
    expect(response?.status()).toBe(200);
    await waitForStatus(page, 'Connected');
    return page;
  }

  describe('against the in-process server', () => {
    let server: TestServer;

    beforeEach(async () => {
      server = await startServer();
    });

    afterEach(async () => {
      await closeTabs();
      await server.close();
    });

    it('serves the client at GET / with its assets', async () => {
      const res = await fetch(`${server.httpUrl}/`, { signal: AbortSignal.timeout(WAIT_MS) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      await expect(res.text()).resolves.toContain('<script src="app.js" defer></script>');
    });

    it('two pages chat both ways, and each lists both users', async () => {
      const alice = await openChat(server.httpUrl);
      const bob = await openChat(server.httpUrl);

      await typeAndEnter(alice, 'hello from the first tab');
      await waitForMessage(bob, 'hello from the first tab');
      await bob.getByTestId('message-input').fill('hi back from the second tab');
      await bob.getByTestId('send-button').click();
      await waitForMessage(alice, 'hi back from the second tab');

      await waitForUsers(alice, ['Guest1', 'Guest2']);
      await waitForUsers(bob, ['Guest1', 'Guest2']);
      expect(await messageTexts(alice)).toEqual(['hello from the first tab', 'hi back from the second tab']);
      expect(await messageTexts(bob)).toEqual(['hello from the first tab', 'hi back from the second tab']);
    });

    it('Shift+Enter inserts a newline and Enter sends the multi-line message', async () => {
      const page = await openChat(server.httpUrl);
      const input = page.getByTestId('message-input');

      await input.pressSequentially('line one');
      await input.press('Shift+Enter');
      await input.pressSequentially('line two');
      expect(await input.inputValue()).toBe('line one\nline two');
      await input.press('Enter');

      await waitForMessage(page, 'line one\nline two');
      expect(await input.inputValue()).toBe('');
    });

    it('a nick change shows on both pages; a taken nickname is explained in plain words', async () => {
      const first = await openChat(server.httpUrl);
      const second = await openChat(server.httpUrl);
      await waitForUsers(first, ['Guest1', 'Guest2']);

      await setNick(first, 'alice');

      for (const page of [first, second]) {
        await page.getByTestId('notice').filter({ hasText: 'Guest1 is now known as alice' }).waitFor();
        await waitForUsers(page, ['alice', 'Guest2']);
      }
      await typeAndEnter(first, 'signed as alice');
      await expect(second.getByTestId('message').filter({ hasText: 'signed as alice' }).locator('.author').textContent()).resolves.toBe(
        'alice',
      );

      await setNick(second, 'ALICE');
      await second.getByTestId('error').waitFor({ state: 'visible' });
      await expect(second.getByTestId('error-text').textContent()).resolves.toBe(
        'Nickname "ALICE" is already taken. Please pick another nickname.',
      );
      await waitForUsers(second, ['alice', 'Guest2']);
    });

    it('shows a markup payload as literal text and runs nothing', async () => {
      const sender = await openChat(server.httpUrl);
      const receiver = await openChat(server.httpUrl);

      await typeAndEnter(sender, XSS);

      for (const page of [sender, receiver]) {
        await waitForMessage(page, XSS);
        expect(await page.getByTestId('messages').locator('img').count()).toBe(0);
      }
      await receiver.waitForTimeout(300); // time enough for an onerror handler to have fired
      expect(tabs.get(sender)?.dialogs).toEqual([]);
      expect(tabs.get(receiver)?.dialogs).toEqual([]);
    });

    it('after a drop shows nothing twice, and after a long one fetches what the welcome history left out', async () => {
      // The page's socket goes through Playwright, so the test can drop it and refuse reconnects.
      let refuse = false;
      let upstream: WebSocketRoute | undefined;
      const page = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          if (refuse) return ws.close({ code: 4000, reason: 'refused by the test' });
          upstream = ws.connectToServer();
        }),
      );
      await typeAndEnter(page, 'seen before');
      await waitForMessage(page, 'seen before');

      // A short drop: the welcome history repeats what is on screen, and none of it is shown twice.
      await upstream?.close(); // closing the server side closes the page side too
      await waitForStatus(page, 'Disconnected — reconnecting…');
      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await page.getByTestId('notice').filter({ hasText: 'Reconnected.' }).waitFor();
      expect(await messageTexts(page)).toEqual(['seen before']);

      refuse = true;
      await upstream?.close();
      await waitForStatus(page, 'Disconnected — reconnecting…');
      const missed = Array.from({ length: DEFAULT_PAGE_SIZE + 10 }, (_, i) => `missed ${i}`);
      const writer = (await ChatClient.join(server.wsUrl)).client;
      for (const text of missed) writer.send('message', { message: text });
      await writer.collect('message', missed.length);
      await writer.close();
      refuse = false;

      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await waitForMessage(page, 'missed 0');
      expect(await messageTexts(page)).toEqual(['seen before', ...missed]);
    });

    it('fits a 375px-wide phone screen without sideways scrolling, every control labelled', async () => {
      const page = await openChat(server.httpUrl, PHONE);
      await typeAndEnter(page, 'a fairly long message that has to wrap on a narrow phone screen '.repeat(3));
      await typeAndEnter(page, 'x'.repeat(300)); // one unbreakable word

      // A string expression: this project's TypeScript has no DOM types.
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      for (const testId of ['message-input', 'send-button', 'nick-input', 'nick-button']) {
        await expect(page.getByTestId(testId).isVisible()).resolves.toBe(true);
      }
      // Accessible names come from <label> or aria-label, so role queries find every control.
      await page.getByRole('textbox', { name: 'Message' }).waitFor();
      await page.getByRole('textbox', { name: 'Your nickname' }).waitFor();
      await page.getByRole('button', { name: 'Send' }).waitFor();
      await page.getByRole('button', { name: 'Change' }).waitFor();
    });

    it('saves a screenshot of two users chatting to docs/screenshot.png', async () => {
      const alice = await openChat(server.httpUrl);
      const bob = await openChat(server.httpUrl, PHONE);
      await setNick(alice, 'alice');
      await setNick(bob, 'bob');
      await waitForUsers(alice, ['alice', 'bob']);

      const lines: Array<[Page, string]> = [
        [alice, 'Hi Bob! The browser client is live at /.'],
        [bob, 'Nice. It reconnects by itself when the server restarts?'],
        [alice, 'Yes, with backoff, and no duplicated messages afterwards.'],
        [bob, `And markup stays text: ${XSS}`],
        [alice, 'Shift+Enter for a new line:\n• history\n• presence\n• nick changes'],
      ];
      for (const [page, text] of lines) {
        await typeAndEnter(page, text);
        await waitForMessage(alice, text);
        await waitForMessage(bob, text);
      }

      mkdirSync(join(__dirname, '..', 'docs'), { recursive: true });
      await alice.screenshot({ path: join(__dirname, '..', 'docs', 'screenshot.png') });
    });
  });

  describe('across a server restart', () => {
    let dir: string;
    let server: ServerProcess | undefined;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'chat-browser-'));
    });

    afterEach(async () => {
      await closeTabs();
      if (server && server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGTERM');
        await withTimeout(server.exited, 10000, 'server exit');
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows the disconnection, reconnects by itself and keeps working without duplicates', async () => {
      const port = await freePort();
      const env = { PORT: String(port), SQLITE_PATH: join(dir, 'chat.sqlite') };
      server = await spawnServer(env);
      const origin = `http://127.0.0.1:${port}`;
      const page = await openChat(origin);
      await setNick(page, 'carol');
      await page.getByTestId('notice').filter({ hasText: 'is now known as carol' }).waitFor();
      await typeAndEnter(page, 'before the restart');
      await waitForMessage(page, 'before the restart');

      server.child.kill('SIGTERM');
      await expect(withTimeout(server.exited, 10000, 'server exit')).resolves.toEqual({ code: 0, signal: null });
      await waitForStatus(page, 'Disconnected — reconnecting…');
      await expect(page.getByTestId('send-button').isDisabled()).resolves.toBe(true);

      server = await spawnServer(env);
      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      // The chosen nickname is claimed again on the new connection.
      await page.locator('.user.me').filter({ hasText: 'carol' }).waitFor();
      await typeAndEnter(page, 'after the restart');
      await waitForMessage(page, 'after the restart');

      expect(await messageTexts(page)).toEqual(['before the restart', 'after the restart']);
      const other = await openChat(origin);
      await waitForMessage(other, 'after the restart');
      expect(await messageTexts(other)).toEqual(['before the restart', 'after the restart']);
    }, 60000);
  });
});

import type { Page } from 'playwright-core';
import { ChatTabs, seedMessages, setNick, textOf, typeAndEnter, waitForMessage, waitForText, waitUntil } from './support/browser';
import { ChatClient } from './support/chat-client';
import { startServer, type TestServer } from './support/test-app';

/** The page's clock stands still at this instant (a Wednesday, noon UTC); the messages below are placed around it. */
const NOW = Date.parse('2026-03-18T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const UTC = { timezoneId: 'UTC', locale: 'en-US' };

/** What the log shows, in order: "day: <label>", "<author>: <text>" for a message with its header, "  <text>" for one continuing it. */
function logLines(page: Page): Promise<string[]> {
  return page.evaluate(`Array.from(document.querySelector('[data-testid="messages"]').children, (item) => {
    if (item.dataset.testid === 'day-divider') return 'day: ' + item.textContent;
    if (item.dataset.testid !== 'message') return null;
    const text = item.querySelector('.body').textContent;
    return item.classList.contains('continued') ? '  ' + text : item.querySelector('.author').textContent + ': ' + text;
  }).filter((line) => line !== null)`);
}

/** The HTML the page built for each message body, by text of the message (innerHTML, to see every element and attribute). */
function bodyHtml(page: Page): Promise<string[]> {
  return page.evaluate(`Array.from(document.querySelectorAll('[data-testid="message"] .body'), (body) => body.innerHTML)`);
}

/** The relative luminance (0 black to 1 white) of a CSS rgb() colour. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe('web client: reading (e2e, Chromium)', () => {
  const chat = new ChatTabs();
  let server: TestServer;

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  beforeEach(async () => {
    server = await startServer();
  });

  afterEach(async () => {
    await chat.closeTabs();
    await server.close();
  });

  it('groups one sender\'s messages less than 5 minutes apart under one header, and puts a date line before each day', async () => {
    const at = (offset: number) => new Date(NOW + offset);
    await seedMessages(server, [
      { nickname: 'zoe', body: 'last year', sentAt: at(-400 * DAY) },
      { nickname: 'alice', body: 'from last week', sentAt: at(-10 * DAY) },
      { nickname: 'bob', body: 'morning', sentAt: at(-DAY - 3 * 60 * MINUTE) },
      { nickname: 'bob', body: 'still me, 2 minutes later', sentAt: at(-DAY - 3 * 60 * MINUTE + 2 * MINUTE) },
      { nickname: 'bob', body: 'six minutes after that', sentAt: at(-DAY - 3 * 60 * MINUTE + 8 * MINUTE) },
      { nickname: 'alice', body: 'hi bob', sentAt: at(-DAY - 3 * 60 * MINUTE + 9 * MINUTE) },
      { nickname: 'alice', body: 'how are you?', sentAt: at(-DAY - 3 * 60 * MINUTE + 10 * MINUTE) },
      { nickname: 'alice', body: 'a minute before midnight', sentAt: at(-12 * 60 * MINUTE - MINUTE) },
      { nickname: 'alice', body: 'a minute after midnight: a new day, a new header', sentAt: at(-12 * 60 * MINUTE + MINUTE) },
    ]);
    const page = await chat.open(server.httpUrl, { context: UTC, beforeLoad: (p) => p.clock.setFixedTime(NOW) });
    await waitForMessage(page, 'a minute after midnight: a new day, a new header');

    expect(await logLines(page)).toEqual([
      'day: Tuesday, February 11, 2025',
      'zoe: last year',
      'day: Sunday, March 8',
      'alice: from last week',
      'day: Yesterday',
      'bob: morning',
      '  still me, 2 minutes later',
      'bob: six minutes after that',
      'alice: hi bob',
      '  how are you?',
      'alice: a minute before midnight',
      'day: Today',
      'alice: a minute after midnight: a new day, a new header',
    ]);
    // A continued message shows no header (it stays for screen readers, in a 1-pixel box); the first of a group does.
    const continued = page.getByTestId('message').filter({ hasText: 'still me, 2 minutes later' });
    const header = await continued.locator('.meta').boundingBox();
    expect(header!.width * header!.height).toBeLessThanOrEqual(1);
    await expect(continued.locator('.author').textContent()).resolves.toBe('bob');
    await expect(continued.locator('.avatar').isVisible()).resolves.toBe(false);
    const first = page.getByTestId('message').filter({ hasText: 'morning' });
    await expect(first.locator('.author').isVisible()).resolves.toBe(true);
    await expect(first.locator('.time').textContent()).resolves.toBe('09:00 AM');
  });

  it('renders bold, italic, inline code, code blocks, quotes and http(s) links, built as elements from text', async () => {
    const page = await chat.open(server.httpUrl);
    const { client } = await ChatClient.join(server.wsUrl);
    const cases: Array<[string, string]> = [
      ['**bold**, *italic*, _also italic_ and `code`', '<p><strong>bold</strong>, <em>italic</em>, <em>also italic</em> and <code>code</code></p>'],
      ['***both*** and **bold *inside* bold**', '<p><em><strong>both</strong></em> and <strong>bold <em>inside</em> bold</strong></p>'],
      ['*a **b** c*', '<p><em>a <strong>b</strong> c</em></p>'],
      ['snake_case_stays and 2 * 3 * 4', '<p>snake_case_stays and 2 * 3 * 4</p>'],
      ['look:\n```\nconst a = "<b>" && x;\n```\ndone', '<p>look:</p><pre><code>const a = "&lt;b&gt;" &amp;&amp; x;</code></pre><p>done</p>'],
      ['> quoted **line**\n> second\nreply', '<blockquote><p>quoted <strong>line</strong>\nsecond</p></blockquote><p>reply</p>'],
      [
        'docs at https://example.com/a_b?q=1. and (http://example.org/x)',
        '<p>docs at <a class="link" href="https://example.com/a_b?q=1" target="_blank" rel="noopener noreferrer">https://example.com/a_b?q=1</a>. and ' +
          '(<a class="link" href="http://example.org/x" target="_blank" rel="noopener noreferrer">http://example.org/x</a>)</p>',
      ],
    ];
    for (const [text] of cases) client.send('message', { message: text });
    await waitForMessage(page, 'docs at https://example.com/a_b?q=1. and (http://example.org/x)');

    expect(await bodyHtml(page)).toEqual(cases.map(([, html]) => html));
    await client.close();
  });

  it('shows HTML and script smuggled through Markdown and links as text: no element made from them, no dialog', async () => {
    const receiver = await chat.open(server.httpUrl);
    const sender = await chat.open(server.httpUrl);
    const cases: Array<[string, string]> = [
      ['**<img src=x onerror=alert(1)>**', '<p><strong>&lt;img src=x onerror=alert(1)&gt;</strong></p>'],
      ['*<svg onload=alert(2)>*', '<p><em>&lt;svg onload=alert(2)&gt;</em></p>'],
      ['`<script>alert(3)</script>`', '<p><code>&lt;script&gt;alert(3)&lt;/script&gt;</code></p>'],
      ['```\n<iframe src="javascript:alert(4)"></iframe>\n```', '<pre><code>&lt;iframe src="javascript:alert(4)"&gt;&lt;/iframe&gt;</code></pre>'],
      ['> <img src=x onerror=alert(5)>', '<blockquote><p>&lt;img src=x onerror=alert(5)&gt;</p></blockquote>'],
      ['[x](javascript:alert(6))', '<p>[x](javascript:alert(6))</p>'],
      ['javascript:alert(7) and JAVASCRIPT://x', '<p>javascript:alert(7) and JAVASCRIPT://x</p>'],
      ['<a href="javascript:alert(8)">click</a>', '<p>&lt;a href="javascript:alert(8)"&gt;click&lt;/a&gt;</p>'],
      [
        'http://example.com/"onmouseover="alert(9)',
        '<p><a class="link" href="http://example.com/" target="_blank" rel="noopener noreferrer">http://example.com/</a>"onmouseover="alert(9)</p>',
      ],
      [
        'https://evil.example/<script>alert(10)</script>',
        '<p><a class="link" href="https://evil.example/" target="_blank" rel="noopener noreferrer">https://evil.example/</a>' +
          '&lt;script&gt;alert(10)&lt;/script&gt;</p>',
      ],
      ['**<b>nested *<i>markers</i>* here</b>**', '<p><strong>&lt;b&gt;nested <em>&lt;i&gt;markers&lt;/i&gt;</em> here&lt;/b&gt;</strong></p>'],
      ['**never closed <img src=x onerror=alert(11)>', '<p>**never closed &lt;img src=x onerror=alert(11)&gt;</p>'],
      ['`never closed <script>', '<p>`never closed &lt;script&gt;</p>'],
      ['```\nnever closed <script>alert(12)</script>', '<p>```\nnever closed &lt;script&gt;alert(12)&lt;/script&gt;</p>'],
      ['** not bold ** and * not italic *', '<p>** not bold ** and * not italic *</p>'],
    ];
    for (const [text] of cases) await typeAndEnter(sender, text);
    const last = cases.at(-1)![0];
    for (const page of [receiver, sender]) {
      await waitForMessage(page, last);
      expect(await bodyHtml(page)).toEqual(cases.map(([, html]) => html));
      const log = page.getByTestId('messages');
      expect(await log.locator('img, svg, script, iframe, object, embed, b, i').count()).toBe(0);
      // No element in the log carries an event handler or a non-http(s) link.
      const unsafe = await page.evaluate(`Array.from(document.querySelectorAll('[data-testid="messages"] *')).filter((el) =>
        Array.from(el.attributes).some((a) => a.name.startsWith('on')) || (el.tagName === 'A' && !/^https?:/.test(el.href))).length`);
      expect(unsafe).toBe(0);
    }
    await receiver.waitForTimeout(300); // time enough for an onerror handler to have fired
    expect(chat.tabs.get(receiver)!.dialogs).toEqual([]);
  });

  it('highlights mentions of your own nickname, in other people\'s messages only, and follows a rename', async () => {
    const page = await chat.open(server.httpUrl);
    await setNick(page, 'alice');
    await waitForText(page, 'me', 'alice');
    const { client } = await ChatClient.join(server.wsUrl);
    client.send('message', { message: 'ping @alice, and alice again (not malice)' });
    client.send('message', { message: 'nothing for you here' });
    await waitForMessage(page, 'nothing for you here');
    await typeAndEnter(page, 'I am alice');
    await waitForMessage(page, 'I am alice');

    const mentioned = page.getByTestId('message').filter({ hasText: 'ping @alice' });
    await expect(mentioned.getByTestId('mention').allTextContents()).resolves.toEqual(['@alice', 'alice']);
    await expect(mentioned.getAttribute('class')).resolves.toContain('mentions-me');
    await expect(page.locator('.mentions-me').count()).resolves.toBe(1);
    await expect(page.getByTestId('mention').count()).resolves.toBe(2);

    await setNick(page, 'al');
    await waitForText(page, 'me', 'al');
    client.send('message', { message: 'hey al' });
    await waitForMessage(page, 'hey al');
    await waitUntil('mentions of the new name only', async () => JSON.stringify(await page.getByTestId('mention').allTextContents()) === '["al"]');
    await client.close();
  });

  it('shows your nickname as text, and names the server and the conversation in the title', async () => {
    const page = await chat.open(server.httpUrl);
    const host = `127.0.0.1:${server.port}`;
    await waitForText(page, 'me', 'Guest1');
    await expect(page.getByTestId('nick-input').getAttribute('placeholder')).resolves.toBe('New nickname');
    await expect(textOf(page, 'server')).resolves.toBe(host);
    await expect(page.title()).resolves.toBe(`#general · nest-chat — ${host}`);

    await setNick(page, 'alice');
    await waitForText(page, 'me', 'alice');
    await page.getByTestId('join-input').fill('eng');
    await page.getByTestId('join-input').press('Enter');
    await waitUntil('the title of #eng', async () => (await page.title()) === `#eng · nest-chat — ${host}`);
    const { client } = await ChatClient.join(server.wsUrl);
    client.send('message', { message: 'unread in general' });
    await waitUntil('the unread count in the title', async () => (await page.title()) === `(1) #eng · nest-chat — ${host}`);
    await client.close();
  });

  it('follows the system\'s dark or light preference', async () => {
    const colours = (page: Page) =>
      page.evaluate<[string, string, string]>(`(() => {
        const panel = getComputedStyle(document.querySelector('.conversation'));
        const page = getComputedStyle(document.documentElement);
        return [panel.backgroundColor, panel.color, page.backgroundColor];
      })()`);
    const dark = await chat.open(server.httpUrl, { context: { colorScheme: 'dark' } });
    const light = await chat.open(server.httpUrl, { context: { colorScheme: 'light' } });
    await typeAndEnter(dark, 'readable in the dark');
    await waitForMessage(light, 'readable in the dark');

    const [darkPanel, darkText, darkPage] = (await colours(dark)).map(luminance);
    expect(darkPanel).toBeLessThan(0.05);
    expect(darkPage).toBeLessThan(0.05);
    expect(darkText).toBeGreaterThan(0.6);
    const [lightPanel, lightText, lightPage] = (await colours(light)).map(luminance);
    expect(lightPanel).toBeGreaterThan(0.9);
    expect(lightPage).toBeGreaterThan(0.8);
    expect(lightText).toBeLessThan(0.05);
    // The message text itself follows too.
    const bodyColour = (page: Page) => page.evaluate<string>(`getComputedStyle(document.querySelector('[data-testid="message"] .body')).color`);
    expect(luminance(await bodyColour(dark))).toBeGreaterThan(0.6);
    expect(luminance(await bodyColour(light))).toBeLessThan(0.05);
  });
});

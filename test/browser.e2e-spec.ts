import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page, WebSocketRoute } from 'playwright-core';
import { WebSocket } from 'ws';
import { DEFAULT_PAGE_SIZE } from '../src/protocol/dto/page-query.dto';
import { MAX_DIFF_NAMES, MAX_LISTED_USERS } from '../src/protocol/frames';
import {
  ChatTabs,
  DESKTOP,
  dmEntry,
  joinRoom,
  messageIds,
  messageTexts,
  openRoom,
  pendingTexts,
  PHONE,
  roomEntry,
  roomTitles,
  seedMessages,
  setNick,
  storedMessages,
  TestLink,
  textOf,
  typeAndEnter,
  unreadOf,
  WAIT_MS,
  waitForMessage,
  waitForStatus,
  waitForText,
  waitForUsers,
  waitUntil,
} from './support/browser';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { freePort, spawnServer, type ServerProcess } from './support/server-process';
import { getJson, startServer, type TestServer } from './support/test-app';

const RECONNECT_WAIT_MS = 20000;
/** Rooms of more than this many members get presence_diff frames, every DIFF_INTERVAL_MS, in the large-room tests. */
const LARGE_ROOM_THRESHOLD = 1;
const DIFF_INTERVAL_MS = 1500;
/** The client fetches a room's list again at most once in this window (members.js). */
const REFRESH_WAIT_MS = 3000;
const XSS = '<img src=x onerror=alert(1)>';
const SCREENSHOT = { width: 1200, height: 840 };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('web client in a real browser (e2e)', () => {
  const chat = new ChatTabs();
  const tabs = chat.tabs;
  const closeTabs = (pages?: Page[]) => chat.closeTabs(pages);
  const received = (page: Page, text: string) => chat.received(page, text);
  const openChat = (origin: string, viewport = DESKTOP, beforeLoad?: (page: Page) => Promise<void>) =>
    chat.open(origin, { viewport, beforeLoad });

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  describe('against the in-process server', () => {
    let server: TestServer;

    beforeEach(async () => {
      server = await startServer();
    });

    afterEach(async () => {
      await closeTabs();
      await server.close();
    });

    it('serves the client at GET / with its assets: every module main.js imports, each one preloaded', async () => {
      const res = await fetch(`${server.httpUrl}/`, { signal: AbortSignal.timeout(WAIT_MS) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain('<script type="module" src="main.js"></script>');
      const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([\w-]+\.js)" \/>/g)].map(([, file]) => file);
      // Walk the import graph: a module served with a non-JavaScript type, or missing, stops the page.
      const reached = new Set<string>();
      const queue = ['main.js'];
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        if (reached.has(file)) continue;
        reached.add(file);
        const script = await fetch(`${server.httpUrl}/${file}`, { signal: AbortSignal.timeout(WAIT_MS) });
        expect(script.status).toBe(200);
        expect(script.headers.get('content-type')).toMatch(/javascript/);
        const source = await script.text();
        queue.push(...[...source.matchAll(/^import .+ from '\.\/([\w-]+\.js)';$/gm)].map(([, imported]) => imported));
      }
      expect([...reached]).toContain('view.js');
      expect([...reached].filter((file) => file !== 'main.js').sort()).toEqual([...preloaded].sort());
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
      const link = new TestLink();
      const page = await openChat(server.httpUrl, DESKTOP, link.route);
      await typeAndEnter(page, 'seen before');
      await waitForMessage(page, 'seen before');

      // A short drop: the welcome history repeats what is on screen, and none of it is shown twice.
      await link.drop(); // closing the server side closes the page side too
      await waitForStatus(page, 'Disconnected — reconnecting…');
      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await page.getByTestId('notice').filter({ hasText: 'Reconnected.' }).waitFor();
      expect(await messageTexts(page)).toEqual(['seen before']);

      link.refuse = true;
      await link.drop();
      await waitForStatus(page, 'Disconnected — reconnecting…');
      const missed = Array.from({ length: DEFAULT_PAGE_SIZE + 10 }, (_, i) => `missed ${i}`);
      const writer = (await ChatClient.join(server.wsUrl)).client;
      for (const text of missed) writer.send('message', { message: text });
      await writer.collect('message', missed.length);
      await writer.close();
      link.refuse = false;

      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await waitForMessage(page, 'missed 0');
      expect(await messageTexts(page)).toEqual(['seen before', ...missed]);
    });

    it('fits a 375px-wide phone screen without sideways scrolling, every control labelled', async () => {
      const page = await openChat(server.httpUrl, PHONE);
      await joinRoom(page, 'r'.repeat(64)); // the longest room name, in the room list and the title
      await openRoom(page, 'general');
      await typeAndEnter(page, 'a fairly long message that has to wrap on a narrow phone screen '.repeat(3));
      await typeAndEnter(page, 'x'.repeat(300)); // one unbreakable word
      await waitForMessage(page, 'x'.repeat(300));

      // A string expression: this project's TypeScript has no DOM types.
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      // The room list collapses into a row above the conversation.
      const rooms = await page.getByTestId('rooms-panel').boundingBox();
      const log = await page.getByTestId('messages').boundingBox();
      expect(rooms && log && rooms.y + rooms.height <= log.y).toBe(true);
      for (const testId of ['message-input', 'send-button', 'nick-input', 'nick-button', 'join-input', 'join-button', 'browse-button']) {
        await expect(page.getByTestId(testId).isVisible()).resolves.toBe(true);
      }
      // Accessible names come from <label> or aria-label, so role queries find every control.
      await page.getByRole('textbox', { name: 'Message' }).waitFor();
      await page.getByRole('textbox', { name: 'Your nickname' }).waitFor();
      await page.getByRole('textbox', { name: 'Join a room' }).waitFor();
      await page.getByRole('button', { name: 'Send' }).waitFor();
      await page.getByRole('button', { name: 'Change' }).waitFor();
      await page.getByRole('button', { name: 'Join', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Browse' }).waitFor();
      await page.getByRole('button', { name: '#general' }).waitFor();
    });

    it('two pages chat in a second room that stays out of general; a page not in it never sees it', async () => {
      const alice = await openChat(server.httpUrl);
      const bob = await openChat(server.httpUrl);
      const carol = await openChat(server.httpUrl);
      await setNick(alice, 'alice');
      await setNick(bob, 'bob');
      await setNick(carol, 'carol');
      await waitForUsers(carol, ['alice', 'bob', 'carol']);

      await joinRoom(alice, 'eng');
      await joinRoom(bob, 'eng');
      // The member list follows the room on screen.
      await waitForUsers(alice, ['alice', 'bob']);
      await waitForUsers(bob, ['alice', 'bob']);
      expect(await roomTitles(alice)).toEqual(['#general', '#eng']);

      await typeAndEnter(alice, 'eng: ship it');
      await waitForMessage(bob, 'eng: ship it');
      await typeAndEnter(bob, 'eng: agreed');
      await waitForMessage(alice, 'eng: agreed');
      for (const page of [alice, bob]) {
        expect(await messageTexts(page)).toEqual(['eng: ship it', 'eng: agreed']);
        await openRoom(page, 'general');
        expect(await messageTexts(page)).toEqual([]);
        await waitForUsers(page, ['alice', 'bob', 'carol']);
      }

      // A room that is not on screen counts what arrives in it.
      await openRoom(alice, 'eng');
      await typeAndEnter(alice, 'eng: one more');
      await waitUntil("bob's unread count for #eng to be 1", async () => (await unreadOf(roomEntry(bob, 'eng'))) === 1);
      expect(await messageTexts(bob)).toEqual([]);
      await openRoom(bob, 'eng');
      await waitForMessage(bob, 'eng: one more');
      expect(await unreadOf(roomEntry(bob, 'eng'))).toBe(0);

      // carol is not in eng: once a later general message reached her, no eng frame can still be on its way.
      await openRoom(alice, 'general');
      await typeAndEnter(alice, 'general: sync');
      await waitForMessage(carol, 'general: sync');
      expect(await messageTexts(carol)).toEqual(['general: sync']);
      expect(await roomTitles(carol)).toEqual(['#general']);
      for (const text of ['eng: ship it', 'eng: agreed', 'eng: one more']) expect(received(carol, text)).toBe(false);

      // She can discover the room without joining it.
      await carol.getByTestId('browse-button').click();
      const eng = carol.locator('[data-testid="directory-room"][data-room="eng"]');
      await eng.waitFor();
      await expect(eng.locator('.directory-count').textContent()).resolves.toBe('2 online');
      await eng.getByRole('button', { name: 'Join #eng' }).waitFor();

      // Leaving: the room goes from the list, the other member is told, and its frames stop.
      await openRoom(alice, 'eng');
      await alice.getByTestId('leave-button').click();
      await waitForText(alice, 'conversation-title', '#general');
      expect(await roomTitles(alice)).toEqual(['#general']);
      await bob.getByTestId('notice').filter({ hasText: 'alice left' }).waitFor();
      await waitForUsers(bob, ['bob']);
      await typeAndEnter(bob, 'eng: after alice left');
      await openRoom(bob, 'general');
      await typeAndEnter(bob, 'general: sync 2');
      await waitForMessage(alice, 'general: sync 2');
      expect(received(alice, 'eng: after alice left')).toBe(false);

      // Room names are checked before anything is sent.
      await alice.getByTestId('join-input').fill('not a room!');
      await alice.getByTestId('join-button').click();
      await alice.getByTestId('join-error').waitFor({ state: 'visible' });
      await expect(textOf(alice, 'join-error')).resolves.toBe(
        '"not a room!" is not a room name. Room names are 1 to 64 letters, digits, "_", "-" or ".", without spaces.',
      );
      expect(await roomTitles(alice)).toEqual(['#general']);
    });

    it('a direct message opened by clicking a user reaches only that user; an offline one is explained', async () => {
      const alice = await openChat(server.httpUrl);
      const bob = await openChat(server.httpUrl);
      const carol = await openChat(server.httpUrl);
      await setNick(alice, 'alice');
      await setNick(bob, 'bob');
      await setNick(carol, 'carol');
      await waitForUsers(alice, ['alice', 'bob', 'carol']);

      await alice.getByTestId('users').getByRole('button', { name: 'bob', exact: true }).click();
      await waitForText(alice, 'conversation-title', '@bob');
      await typeAndEnter(alice, 'psst, bob');
      await waitForMessage(alice, 'psst, bob');

      // bob stays in general; the conversation appears, marked unread.
      await waitUntil("bob's unread count for alice to be 1", async () => (await unreadOf(dmEntry(bob, 'alice'))) === 1);
      expect(await messageTexts(bob)).toEqual([]);
      await dmEntry(bob, 'alice').getByRole('button').click();
      await waitForText(bob, 'conversation-title', '@alice');
      await waitForMessage(bob, 'psst, bob');
      await expect(bob.getByTestId('message').filter({ hasText: 'psst, bob' }).locator('.author').textContent()).resolves.toBe('alice');
      await typeAndEnter(bob, 'hi alice, only you see this');
      await waitForMessage(alice, 'hi alice, only you see this');
      expect(await messageTexts(alice)).toEqual(['psst, bob', 'hi alice, only you see this']);

      // carol gets no frame of it (checked after a later broadcast reached her) and no conversation.
      await openRoom(alice, 'general');
      await typeAndEnter(alice, 'general: sync');
      await waitForMessage(carol, 'general: sync');
      expect(received(carol, 'psst, bob')).toBe(false);
      expect(received(carol, 'hi alice, only you see this')).toBe(false);
      expect(await carol.getByTestId('dm-item').count()).toBe(0);
      expect(await messageTexts(alice)).toEqual(['general: sync']);

      // carol goes offline: the direct message is refused in plain words and the text is kept.
      await alice.getByTestId('users').getByRole('button', { name: 'carol', exact: true }).click();
      await waitForText(alice, 'conversation-title', '@carol');
      await closeTabs([carol]);
      await waitForUsers(alice, ['alice', 'bob']);
      await typeAndEnter(alice, 'are you there?');
      await alice.getByTestId('error').waitFor({ state: 'visible' });
      await expect(textOf(alice, 'error-text')).resolves.toBe(
        'carol is not online (or has changed nickname), so your direct message was not delivered.',
      );
      await expect(alice.getByTestId('message-input').inputValue()).resolves.toBe('are you there?');
    });

    it('shows who is typing on the other page, and sends the indicator at most every 2 s', async () => {
      const typingSent: number[] = [];
      const alice = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          const upstream = ws.connectToServer();
          ws.onMessage((message) => {
            if (message.toString().includes('"event":"typing"')) typingSent.push(Date.now());
            upstream.send(message);
          });
        }),
      );
      const bob = await openChat(server.httpUrl);
      await setNick(alice, 'alice');
      await waitForUsers(bob, ['alice', 'Guest2']);
      const input = alice.getByTestId('message-input');

      await input.pressSequentially('hello there', { delay: 50 });
      await waitForText(bob, 'typing', 'alice is typing…');
      expect(typingSent).toHaveLength(1);
      expect(await textOf(alice, 'typing')).toBe('');

      // It goes away about 3 s after the last indicator.
      const seenAt = Date.now();
      await waitForText(bob, 'typing', '', 5000);
      expect(Date.now() - seenAt).toBeGreaterThan(1500);

      // Typing again, over 2 s later, sends one more; the message itself clears it at once.
      await input.pressSequentially(' again', { delay: 50 });
      await waitForText(bob, 'typing', 'alice is typing…');
      await input.press('Enter');
      await waitForMessage(bob, 'hello there again');
      await waitForText(bob, 'typing', '', 1000);
      expect(typingSent).toHaveLength(2);
    });

    it('explains NOT_IN_ROOM in plain words and joins the room again', async () => {
      let dropJoins = false;
      const page = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          const upstream = ws.connectToServer();
          ws.onMessage((message) => {
            if (dropJoins && message.toString().includes('"event":"join"')) return;
            upstream.send(message);
          });
        }),
      );
      dropJoins = true; // the server never hears of this join
      await page.getByTestId('join-input').fill('ops');
      await page.getByTestId('join-input').press('Enter');
      await waitForText(page, 'conversation-title', '#ops');
      dropJoins = false;

      await typeAndEnter(page, 'anyone here?');
      await page.getByTestId('error').waitFor({ state: 'visible' });
      await expect(textOf(page, 'error-text')).resolves.toBe(
        'You are not in #ops right now, so your message was not sent. Joining it again; please send it once more in a moment.',
      );
      await expect(page.getByTestId('message-input').inputValue()).resolves.toBe('anyone here?');
      await page.locator('.user.me').waitFor(); // the re-join's presence
      await page.getByTestId('send-button').click();
      await waitForMessage(page, 'anyone here?');
      expect(await messageTexts(page)).toEqual(['anyone here?']);
    });

    it('after a drop re-joins its rooms and catches up what each one missed', async () => {
      const link = new TestLink();
      const page = await openChat(server.httpUrl, DESKTOP, link.route);
      await joinRoom(page, 'eng');
      await typeAndEnter(page, 'eng before');
      await waitForMessage(page, 'eng before');

      link.refuse = true;
      await link.drop();
      await waitForStatus(page, 'Disconnected — reconnecting…');
      const writer = (await ChatClient.join(server.wsUrl)).client;
      writer.send('join', { room: 'eng' });
      await writer.nextOfType('presence');
      writer.send('message', { message: 'eng missed 1', room: 'eng' });
      writer.send('message', { message: 'eng missed 2', room: 'eng' });
      writer.send('message', { message: 'general missed' });
      await writer.collect('message', 3);
      await writer.close();
      link.refuse = false;

      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await waitForMessage(page, 'eng missed 2');
      expect(await messageTexts(page)).toEqual(['eng before', 'eng missed 1', 'eng missed 2']);
      expect(await roomTitles(page)).toEqual(['#general', '#eng']);
      await waitUntil('the unread count of #general to be 1', async () => (await unreadOf(roomEntry(page, 'general'))) === 1);
      await openRoom(page, 'general');
      expect(await messageTexts(page)).toEqual(['general missed']);
    });

    it('keeps unacknowledged messages through a drop and sends them again with the same clientMsgId: each is delivered once', async () => {
      let refuse = false;
      let dropSends = false; // the page's messages never reach the server
      let dropAcks = false; // the server's acks never reach the page
      let hide: string | undefined; // frames mentioning this text never reach the page
      const sent: string[] = [];
      let upstream: WebSocketRoute | undefined;
      const alice = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          if (refuse) return ws.close({ code: 4000, reason: 'refused by the test' });
          const toServer = ws.connectToServer();
          upstream = toServer;
          ws.onMessage((message) => {
            const text = message.toString();
            if (text.includes('"event":"message"')) {
              sent.push(text);
              if (dropSends) return;
            }
            toServer.send(message);
          });
          toServer.onMessage((message) => {
            const text = message.toString();
            if (dropAcks && text.includes('"type":"ack"')) return;
            if (hide !== undefined && text.includes(hide)) return;
            ws.send(message);
          });
        }),
      );
      const bob = await openChat(server.httpUrl);
      await typeAndEnter(alice, 'seen first');
      await waitForMessage(alice, 'seen first');
      const pendingState = alice.getByTestId('pending-state');

      // Lost on the way: shown as sending until the drop, then as waiting for the connection.
      dropSends = true;
      await typeAndEnter(alice, 'lost on the way');
      await waitUntil('the message to show as sending', async () => (await pendingTexts(alice)).includes('lost on the way'));
      await expect(pendingState.textContent()).resolves.toBe('Sending…');
      expect(await messageTexts(alice)).toEqual(['seen first']);
      refuse = true;
      await upstream?.close();
      await waitForStatus(alice, 'Disconnected — reconnecting…');
      await waitForText(alice, 'pending-state', 'Sending once reconnected…');

      // Written while disconnected: it waits too, after the first one.
      await typeAndEnter(alice, 'typed while offline');
      expect(await pendingTexts(alice)).toEqual(['lost on the way', 'typed while offline']);
      await expect(alice.getByTestId('message-input').inputValue()).resolves.toBe('');
      dropSends = false;
      refuse = false;
      await waitForStatus(alice, 'Connected', RECONNECT_WAIT_MS);
      await waitUntil('nothing pending', async () => (await pendingTexts(alice)).length === 0);
      await waitForMessage(bob, 'typed while offline');
      expect(await messageTexts(alice)).toEqual(['seen first', 'lost on the way', 'typed while offline']);

      // Stored, but neither its ack, its broadcast nor its replay after the drop reaches the page:
      // the page sends it again with the same clientMsgId, and the server only acknowledges it again.
      dropAcks = true;
      hide = 'stored, never confirmed';
      await typeAndEnter(alice, 'stored, never confirmed');
      await waitForMessage(bob, 'stored, never confirmed');
      expect(await pendingTexts(alice)).toEqual(['stored, never confirmed']);
      const sentBefore = sent.length;
      await upstream?.close();
      dropAcks = false;
      await waitForStatus(alice, 'Disconnected — reconnecting…');
      await waitForStatus(alice, 'Connected', RECONNECT_WAIT_MS);
      await waitForMessage(alice, 'stored, never confirmed');
      expect(await pendingTexts(alice)).toEqual([]);
      const copies = sent.filter((frame) => frame.includes('stored, never confirmed'));
      expect(copies).toHaveLength(2);
      expect(copies.slice(1)).toEqual(sent.slice(sentBefore).filter((frame) => frame.includes('stored, never confirmed')));
      const [first, again] = copies.map((frame) => (JSON.parse(frame) as { data: { clientMsgId: string } }).data.clientMsgId);
      expect(again).toBe(first);
      hide = undefined;

      const stored = await storedMessages(server.httpUrl);
      const texts = ['seen first', 'lost on the way', 'typed while offline', 'stored, never confirmed'];
      expect(stored.map((m) => m.message)).toEqual(texts);
      expect(await messageTexts(alice)).toEqual(texts);
      expect(await messageIds(alice)).toEqual(stored.map((m) => m.id));
      expect(await messageTexts(bob)).toEqual(texts);
      expect(tabs.get(bob)!.received.filter((frame) => frame.includes('stored, never confirmed'))).toHaveLength(1);
    }, 30000);

    it('explains UNAVAILABLE for a send in plain words and keeps the text to send again', async () => {
      let fail = false;
      let held: { clientMsgId: string } | undefined;
      let toPage: WebSocketRoute | undefined;
      const page = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          toPage = ws;
          const toServer = ws.connectToServer();
          ws.onMessage((message) => {
            const frame = JSON.parse(message.toString()) as { event: string; data: { clientMsgId: string } };
            if (fail && frame.event === 'message') held = frame.data;
            else toServer.send(message);
          });
        }),
      );
      /** Answers the held message as the server does when its store fails. */
      const refuseHeld = async () => {
        await waitUntil('the message to reach the test', () => Promise.resolve(held !== undefined));
        const { clientMsgId } = held!;
        held = undefined;
        const message = 'The message store is unavailable; nothing was stored or sent, try again';
        toPage?.send(JSON.stringify({ type: 'error', code: 'UNAVAILABLE', message, event: 'message', clientMsgId }));
        return clientMsgId;
      };
      const input = page.getByTestId('message-input');
      fail = true;

      // With the message box empty, the text goes back into it.
      await typeAndEnter(page, 'first try');
      await refuseHeld();
      await page.getByTestId('error').waitFor({ state: 'visible' });
      await expect(textOf(page, 'error-text')).resolves.toBe(
        'The server could not store your message right now, so it was not sent. Your text is back in the message box: send it again in a moment.',
      );
      await expect(input.inputValue()).resolves.toBe('first try');
      expect(await pendingTexts(page)).toEqual([]);

      // With something else written meanwhile, it stays in the conversation, with Retry.
      await input.press('Enter');
      await waitUntil('the message to reach the test', () => Promise.resolve(held !== undefined));
      await input.fill('a draft');
      const clientMsgId = await refuseHeld();
      await waitForText(page, 'pending-state', 'Not sent');
      await expect(textOf(page, 'error-text')).resolves.toBe(
        'The server could not store your message right now, so it was not sent. It is kept in the conversation: press Retry in a moment.',
      );
      expect(await pendingTexts(page)).toEqual(['first try']);
      expect(await messageTexts(page)).toEqual([]);

      fail = false;
      await page.getByTestId('pending-retry').click();
      await waitForMessage(page, 'first try');
      expect(await pendingTexts(page)).toEqual([]);
      await expect(input.inputValue()).resolves.toBe('a draft');
      const stored = await storedMessages(server.httpUrl);
      expect(stored.map((m) => [m.message, m.clientMsgId])).toEqual([['first try', clientMsgId]]);
    });

    it('after a reload resumes from the last seen id it kept: no history frame, nothing twice, nothing missed', async () => {
      let refuse = false;
      const urls: string[] = [];
      const frames: string[] = [];
      const page = await openChat(server.httpUrl, DESKTOP, (p) =>
        p.routeWebSocket(/^ws:/, (ws) => {
          urls.push(ws.url());
          if (refuse) return ws.close({ code: 4000, reason: 'refused by the test' });
          const toServer = ws.connectToServer();
          toServer.onMessage((message) => {
            frames.push(message.toString());
            ws.send(message);
          });
        }),
      );
      expect(urls).toEqual([`ws://127.0.0.1:${server.port}/`]); // a first visit: nothing to resume
      await setNick(page, 'alice');
      await page.locator('.user.me').filter({ hasText: 'alice' }).waitFor();
      await joinRoom(page, 'eng');
      await typeAndEnter(page, 'eng before');
      await waitForMessage(page, 'eng before');
      await openRoom(page, 'general');
      await typeAndEnter(page, 'general before');
      await waitForMessage(page, 'general before');
      const lastId = (await storedMessages(server.httpUrl)).at(-1)!.id;
      const saved = async () => JSON.parse(String(await page.evaluate("localStorage.getItem('chat.resume')"))) as unknown;
      await waitUntil('the last seen id to be kept', async () => JSON.stringify(await saved()) === JSON.stringify({ lastSeenId: lastId, rooms: ['general', 'eng'] }));

      // The nickname comes back with the last welcome's token (kept per tab), no rename needed.
      const tokenKept = async () => String(await page.evaluate("sessionStorage.getItem('chat.reconnectToken')"));
      const token = await tokenKept();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // Reloaded, and messages arrive before the new page gets through.
      refuse = true;
      await page.reload();
      await waitForStatus(page, 'Disconnected — reconnecting…');
      const writer = (await ChatClient.join(server.wsUrl)).client;
      writer.send('join', { room: 'eng' });
      await writer.nextOfType('presence');
      writer.send('message', { message: 'eng missed', room: 'eng' });
      writer.send('message', { message: 'general missed' });
      await writer.collect('message', 2);
      await writer.close();
      const framesBefore = frames.length;
      refuse = false;

      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      expect(urls.at(-1)).toBe(`ws://127.0.0.1:${server.port}/?token=${token}&since=${lastId}&rooms=general,eng`);
      await waitForMessage(page, 'general missed');
      await waitForMessage(page, 'general before'); // older than `since`: fetched over REST
      expect(await messageTexts(page)).toEqual(['general before', 'general missed']);
      expect(await messageIds(page)).toEqual((await storedMessages(server.httpUrl)).map((m) => m.id));
      const received = frames.slice(framesBefore).map((frame) => JSON.parse(frame) as { type: string; nickname?: string });
      expect(received.find((frame) => frame.type === 'welcome')?.nickname).toBe('alice');
      expect(received.map((frame) => frame.type)).not.toContain('nick_update');
      const types = received.map((frame) => frame.type);
      expect(types).not.toContain('history');
      expect(types.filter((type) => type === 'resumed')).toHaveLength(1);
      expect(types.filter((type) => type === 'message')).toHaveLength(2); // exactly what was missed
      // The rooms, and this tab's nickname, are back.
      expect(await roomTitles(page)).toEqual(['#general', '#eng']);
      await page.locator('.user.me').filter({ hasText: 'alice' }).waitFor();
      await openRoom(page, 'eng');
      await waitForMessage(page, 'eng missed');
      await waitForMessage(page, 'eng before');
      expect(await messageTexts(page)).toEqual(['eng before', 'eng missed']);
      expect(await messageIds(page)).toEqual((await storedMessages(server.httpUrl, 'eng')).map((m) => m.id));

      // A second reload, straight through: still each message once.
      const newest = (await storedMessages(server.httpUrl)).at(-1)!.id;
      const secondToken = await tokenKept();
      expect(secondToken).not.toBe(token); // single use: every welcome brings a new one
      await page.reload();
      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      expect(urls.at(-1)).toBe(`ws://127.0.0.1:${server.port}/?token=${secondToken}&since=${newest}&rooms=general,eng`);
      await page.locator('.user.me').filter({ hasText: 'alice' }).waitFor();
      await waitForMessage(page, 'general missed');
      expect(await messageTexts(page)).toEqual(['general before', 'general missed']);
    });

    it('takes a screenshot of a conversation (into docs/screenshot.png with UPDATE_SCREENSHOT=1)', async () => {
      // Yesterday's messages, straight into the store; today's are typed below.
      const yesterday = Date.now() - 24 * 60 * 60 * 1000;
      const at = (minutes: number) => new Date(yesterday + minutes * 60 * 1000);
      await seedMessages(server, [
        { nickname: 'carol', body: 'Release 0.4 is tagged. Notes: https://example.com/nest-chat/releases/0.4', sentAt: at(0) },
        { nickname: 'carol', body: 'Please try the **new web client** before Monday.', sentAt: at(1) },
        { nickname: 'dave', body: 'Will do. Is `npm start` still the way to run it?', sentAt: at(7) },
        { nickname: 'carol', body: 'Yes, from a fresh clone:\n```\nnpm ci && npm start\n```', sentAt: at(9) },
      ]);
      // Both tabs had chosen their nickname before (kept per tab): they take it back without a notice.
      const named = (nickname: string) => async (page: Page) => {
        await page.addInitScript(`sessionStorage.setItem('chat.nickname', '${nickname}')`);
      };
      const alice = await chat.open(server.httpUrl, { viewport: SCREENSHOT, beforeLoad: named('alice') });
      const bob = await chat.open(server.httpUrl, { viewport: PHONE, beforeLoad: named('bob') });
      await waitForText(alice, 'me', 'alice');
      await waitForText(bob, 'me', 'bob');
      const others: ChatClient[] = [];
      for (const nickname of ['carol', 'dave', 'erin']) {
        const { client } = await ChatClient.join(server.wsUrl);
        client.send('nick', { nickname });
        await client.next((f) => f.type === 'nick_update' && f.nickname === nickname);
        others.push(client);
      }
      await alice.getByTestId('notice').filter({ hasText: 'bob, carol and 2 others joined' }).waitFor();
      await joinRoom(alice, 'design');
      await joinRoom(alice, 'eng');
      await joinRoom(bob, 'eng');
      await openRoom(alice, 'general');
      await openRoom(bob, 'general');

      const lines: Array<[Page, string]> = [
        [alice, 'Morning! Scrollback works now: scroll up and older messages load, *however long the room is*.'],
        [alice, 'Join and leave notices fold into one line, like the one above.'],
        [bob, 'Nice. Links work too: https://example.com/docs'],
        [alice, '> Is `npm start` still the way to run it?\nStill is, and the README fits on one screen now.'],
        [bob, '@alice could you look at the docs PR after lunch?'],
      ];
      for (const [i, [page, text]] of lines.entries()) {
        await typeAndEnter(page, text);
        for (const tab of [alice, bob]) {
          await waitUntil(`message ${i + 1} of today`, async () => (await messageIds(tab)).length === 4 + i + 1);
        }
      }
      await openRoom(bob, 'eng');
      await typeAndEnter(bob, 'Standup notes are up.');
      await waitUntil('the unread count of #eng', async () => (await unreadOf(roomEntry(alice, 'eng'))) === 1);
      await bob.getByTestId('users').getByRole('button', { name: 'alice', exact: true }).click();
      await typeAndEnter(bob, 'Lunch later?');
      await waitUntil('the unread count of @bob', async () => (await unreadOf(dmEntry(alice, 'bob'))) === 1);
      await openRoom(bob, 'general');
      // Slowly enough to outlast the 2 s throttle that his messages above in general started.
      await bob.getByTestId('message-input').pressSequentially('Sure, at noon', { delay: 250 });
      await waitForText(alice, 'typing', 'bob is typing…');
      await alice.getByTestId('message-input').blur(); // no focus ring in the picture

      // Refreshing the committed image is opt-in, so a plain `npm test` leaves the tree clean.
      const update = process.env.UPDATE_SCREENSHOT === '1';
      const target = update ? join(__dirname, '..', 'docs', 'screenshot.png') : join(tmpdir(), `chat-screenshot-${process.pid}.png`);
      mkdirSync(dirname(target), { recursive: true });
      await alice.screenshot({ path: target });
      try {
        const png = readFileSync(target);
        expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([SCREENSHOT.width, SCREENSHOT.height]); // IHDR
        expect(png.length).toBeGreaterThan(20_000);
        expect(png.length).toBeLessThan(2_000_000);
      } finally {
        if (!update) rmSync(target, { force: true });
      }
      await Promise.all(others.map((client) => client.close()));
    });
  });

  describe(`in rooms over PRESENCE_BATCH_THRESHOLD (${LARGE_ROOM_THRESHOLD} here)`, () => {
    let server: TestServer;
    let clients: ChatClient[];
    let sockets: WebSocket[];

    beforeAll(() => {
      // startServer passes on only the variables it knows; these reach the app's config the same way.
      process.env.PRESENCE_BATCH_THRESHOLD = String(LARGE_ROOM_THRESHOLD);
      process.env.PRESENCE_BATCH_MS = String(DIFF_INTERVAL_MS);
    });

    afterAll(() => {
      delete process.env.PRESENCE_BATCH_THRESHOLD;
      delete process.env.PRESENCE_BATCH_MS;
    });

    beforeEach(async () => {
      server = await startServer();
      clients = [];
      sockets = [];
    });

    afterEach(async () => {
      await closeTabs();
      await Promise.all(clients.map((c) => c.close()));
      for (const socket of sockets) socket.terminate();
      await server.close();
    });

    /** `count` clients in general, connected at once, each renamed to `name(i)` when given. */
    async function connect(count: number, name?: (i: number) => string): Promise<ChatClient[]> {
      const joined = await Promise.all(Array.from({ length: count }, () => ChatClient.join(server.wsUrl)));
      const connected = joined.map(({ client }) => client);
      clients.push(...connected);
      if (name) {
        await Promise.all(
          connected.map((client, i) => {
            client.send('nick', { nickname: name(i) });
            return client.next((f) => f.type === 'nick_update' && f.nickname === name(i));
          }),
        );
      }
      return connected;
    }

    /** Bare sockets that only take up a place in general (they read nothing), BATCH at a time. */
    /**
     * `count` raw clients in general, returned once the presence_diff announcing the last of them
     * has gone out: a page opened next then gets no partial diff of their joins (which would make it
     * fetch the member list again).
     */
    async function crowd(count: number): Promise<void> {
      const BATCH = 100;
      let announced: Promise<unknown> | undefined;
      for (let done = 0; done < count; done += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, count - done) }, () => {
          const socket = new WebSocket(server.wsUrl, { perMessageDeflate: false });
          sockets.push(socket);
          announced ??= new Promise<void>((resolve) => {
            const onFrame = (data: Buffer): void => {
              const frame = JSON.parse(data.toString('utf8')) as Frame;
              if (frame.type === 'presence_diff' && frame.room === 'general' && Number(frame.usersTotal) >= count) {
                socket.off('message', onFrame);
                resolve();
              }
            };
            socket.on('message', onFrame);
          });
          // Live once the welcome came: the first frame.
          return withTimeout(new Promise((resolve, reject) => socket.once('message', resolve).once('error', reject)), WAIT_MS, 'welcome');
        });
        await Promise.all(batch);
      }
      await withTimeout(announced!, DIFF_INTERVAL_MS + WAIT_MS, "the crowd's presence_diff");
    }

    function framesOf(page: Page, direction: 'received' | 'sent'): Frame[] {
      const tab = tabs.get(page)!;
      const payloads = direction === 'received' ? tab.received : tab.sent.map((s) => s.payload);
      return payloads.map((payload) => JSON.parse(payload) as Frame);
    }

    /** The `who` requests the page sent for `room`, with when they went out. */
    function whoSent(page: Page, room: string): Array<{ data: Record<string, unknown>; at: number }> {
      return tabs
        .get(page)!
        .sent.map(({ payload, at }) => ({ frame: JSON.parse(payload) as { event: string; data: Record<string, unknown> }, at }))
        .filter(({ frame }) => frame.event === 'who' && frame.data.room === room)
        .map(({ frame, at }) => ({ data: frame.data, at }));
    }

    const diffsOf = (page: Page, room: string) => framesOf(page, 'received').filter((f) => f.type === 'presence_diff' && f.room === room);

    it('the member list follows joins, renames and leaves through presence_diff, and shows usersTotal as the count', async () => {
      const page = await openChat(server.httpUrl);
      await waitForUsers(page, ['Guest1']);
      await waitForText(page, 'user-count', '1');

      const [ann, ben, cal] = await connect(4, (i) => ['ann', 'ben', 'cal', 'dee'][i]);

      await waitForUsers(page, ['Guest1', 'ann', 'ben', 'cal', 'dee']);
      await waitForText(page, 'user-count', '5');
      ben.send('nick', { nickname: 'benny' });
      await waitForUsers(page, ['Guest1', 'ann', 'benny', 'cal', 'dee']);
      await Promise.all([ann.close(), cal.close()]);
      await waitForUsers(page, ['Guest1', 'benny', 'dee'], DIFF_INTERVAL_MS + WAIT_MS);
      await waitForText(page, 'user-count', '3');

      // Every change reached the page as a diff (the room was over the threshold), none as a notification.
      const diffs = diffsOf(page, 'general');
      expect(diffs.length).toBeGreaterThanOrEqual(2);
      const last = diffs.at(-1)!;
      expect({ ...last, leaves: [...(last.leaves as string[])].sort() }).toEqual({
        type: 'presence_diff',
        room: 'general',
        joins: [],
        leaves: ['ann', 'cal'],
        joinsTotal: 0,
        leavesTotal: 2,
        usersTotal: 3,
      });
      expect(framesOf(page, 'received').filter((f) => f.type === 'notification' && f.nickname !== 'Guest1')).toEqual([]);
      expect(await page.getByTestId('users-more').count()).toBe(0);
    });

    it(`fetches the list again with \`who\` when a diff names only ${MAX_DIFF_NAMES} of its changes, at most once per few seconds`, async () => {
      const JOINERS = MAX_DIFF_NAMES + 5;
      const page = await openChat(server.httpUrl); // Guest1, the first on this server
      await joinRoom(page, 'big');
      const crowdOfBig = await connect(JOINERS);
      // Once their joins to general have gone out, the changes of big below fall in one interval of their own.
      const generalSettled = () => Promise.resolve(diffsOf(page, 'general').some((d) => d.usersTotal === JOINERS + 1));
      await waitUntil('the diff of general', generalSettled, DIFF_INTERVAL_MS + WAIT_MS);
      const names = crowdOfBig.map((c) => c.nickname);

      for (const client of crowdOfBig) client.send('join', { room: 'big' });
      await Promise.all(crowdOfBig.map((c) => c.next((f) => f.type === 'presence' && f.room === 'big')));

      await waitForUsers(page, ['Guest1', ...names], DIFF_INTERVAL_MS + WAIT_MS);
      await waitForText(page, 'user-count', String(JOINERS + 1));
      const [joinDiff] = diffsOf(page, 'big');
      expect({ ...joinDiff, joins: (joinDiff.joins as string[]).length }).toEqual({
        type: 'presence_diff',
        room: 'big',
        joins: MAX_DIFF_NAMES,
        leaves: [],
        joinsTotal: JOINERS,
        leavesTotal: 0,
        usersTotal: JOINERS + 1,
      });
      // The 5 not named in the diff came from the page's `who`, sent for the first page of the room.
      expect(whoSent(page, 'big').map((w) => w.data)).toEqual([{ room: 'big' }]);

      for (const client of crowdOfBig) client.send('leave', { room: 'big' });

      await waitForUsers(page, ['Guest1'], DIFF_INTERVAL_MS + REFRESH_WAIT_MS + WAIT_MS);
      await waitForText(page, 'user-count', '1');
      expect(diffsOf(page, 'big')[1]).toMatchObject({ joins: [], leavesTotal: JOINERS, usersTotal: 1 });
      const refreshes = whoSent(page, 'big');
      expect(refreshes.map((w) => w.data)).toEqual([{ room: 'big' }, { room: 'big' }]);
      // Client-side throttle of 3 s, measured here with some slack for event delivery.
      expect(refreshes[1].at - refreshes[0].at).toBeGreaterThanOrEqual(REFRESH_WAIT_MS - 500);
    }, 60000);

    it(`in a room of over ${MAX_LISTED_USERS}, lists the first page, says how many more, and pages the rest on request and on scroll`, async () => {
      const OTHERS = MAX_LISTED_USERS + 150;
      await crowd(OTHERS);

      const page = await openChat(server.httpUrl);
      const me = `Guest${OTHERS + 1}`;

      // The page joined last: the first page of 1000 leaves out 150 others, it lists itself anyway.
      await waitForText(page, 'user-count', String(OTHERS + 1));
      const more = page.getByTestId('users-more');
      await waitUntil('"and 150 more"', async () => (await more.count()) === 1 && (await more.textContent())!.startsWith('and 150 more'));
      expect(await page.getByTestId('user').count()).toBe(MAX_LISTED_USERS + 1);
      await expect(page.locator('.user.me').textContent()).resolves.toBe(`${me} (you)`);

      // Asked for: the button, pressed where it is (a real click would scroll it into view first, which loads by itself).
      await more.getByRole('button', { name: /Show more/ }).dispatchEvent('click');
      await waitUntil('"and 50 more"', async () => (await more.textContent())!.startsWith('and 50 more'));
      expect(await page.getByTestId('user').count()).toBe(MAX_LISTED_USERS + 101);

      // Scrolled to: the end of the list coming into view loads the next page. (One synchronous
      // scroll: Playwright's own waits for the entry to stay put, which it does not once loading starts.)
      await page.evaluate('document.querySelector(\'[data-testid="users-more"]\').scrollIntoView()');
      await waitUntil('the whole list', async () => (await page.getByTestId('user').count()) === OTHERS + 1);
      expect(await more.count()).toBe(0);
      await waitForText(page, 'user-count', String(OTHERS + 1));
      // The pages asked for: the first (after the welcome), then 100 at a time from where the list ended.
      expect(whoSent(page, 'general').map((w) => w.data)).toEqual([
        { room: 'general' },
        { room: 'general', offset: MAX_LISTED_USERS, limit: 100 },
        { room: 'general', offset: MAX_LISTED_USERS + 100, limit: 100 },
      ]);
    }, 120000);
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
      // Joining and renaming wait for the connection; sending does not (the message waits, see below).
      await expect(page.getByTestId('join-button').isDisabled()).resolves.toBe(true);
      await expect(page.getByTestId('send-button').isDisabled()).resolves.toBe(false);

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

    it('re-joins its rooms after a server restart', async () => {
      const port = await freePort();
      const env = { PORT: String(port), SQLITE_PATH: join(dir, 'chat.sqlite') };
      server = await spawnServer(env);
      const origin = `http://127.0.0.1:${port}`;
      const page = await openChat(origin);
      await setNick(page, 'carol');
      await page.getByTestId('notice').filter({ hasText: 'is now known as carol' }).waitFor();
      await joinRoom(page, 'eng');
      await typeAndEnter(page, 'eng before the restart');
      await waitForMessage(page, 'eng before the restart');

      server.child.kill('SIGTERM');
      await expect(withTimeout(server.exited, 10000, 'server exit')).resolves.toEqual({ code: 0, signal: null });
      await waitForStatus(page, 'Disconnected — reconnecting…');
      server = await spawnServer(env);
      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);

      // The new server counts carol (her nickname claimed again) in eng, and the page still shows eng.
      const engUsers = async () => {
        const { status, body } = await getJson(`${origin}/api/rooms/eng/users`);
        return status === 200 ? (body as { users: Array<{ nickname: string }> }).users.map((u) => u.nickname) : [];
      };
      await waitUntil('carol to be in eng again', async () => JSON.stringify(await engUsers()) === '["carol"]');
      expect(await textOf(page, 'conversation-title')).toBe('#eng');
      expect(await roomTitles(page)).toEqual(['#general', '#eng']);
      await waitForUsers(page, ['carol']);

      const other = await openChat(origin);
      await joinRoom(other, 'eng');
      await waitForMessage(other, 'eng before the restart');
      await typeAndEnter(other, 'eng after the restart');
      await waitForMessage(page, 'eng after the restart');
      expect(await messageTexts(page)).toEqual(['eng before the restart', 'eng after the restart']);
    }, 60000);

    it('resumes after a restart while another client keeps posting: every message once, in order, a gap paged over REST', async () => {
      const port = await freePort();
      // A small replay limit, so the catch-up after the restart has a gap to page in over REST.
      const env = { PORT: String(port), SQLITE_PATH: join(dir, 'chat.sqlite'), RESUME_MAX: '5' };
      server = await spawnServer(env);
      const origin = `http://127.0.0.1:${port}`;
      const link = new TestLink();
      const page = await openChat(origin, DESKTOP, link.route);
      const paged: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/api/messages?')) paged.push(request.url());
      });
      await setNick(page, 'carol');
      await page.locator('.user.me').filter({ hasText: 'carol' }).waitFor();
      await joinRoom(page, 'eng');
      await openRoom(page, 'general');
      await typeAndEnter(page, 'before the restart');
      await waitForMessage(page, 'before the restart');

      // A writer that posts to general and eng every 20 ms, reconnecting whenever its server goes.
      let writing = true;
      let posted = 0;
      const writer = (async () => {
        while (writing) {
          const client = await ChatClient.connect(`ws://127.0.0.1:${port}/`).catch(() => undefined);
          if (!client) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          client.send('join', { room: 'eng' });
          while (writing && client.socket.readyState === client.socket.OPEN) {
            const room = posted % 2 === 0 ? 'general' : 'eng';
            client.send('message', { message: `live ${posted}`, room, clientMsgId: `live-${posted}` });
            posted += 1;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await client.close();
        }
      })();
      try {
        await waitUntil('live messages on the page', async () => (await messageTexts(page)).length > 5);

        // One message goes out just as the server stops; another is written while it is down.
        await typeAndEnter(page, 'right before the restart');
        server.child.kill('SIGTERM');
        await expect(withTimeout(server.exited, 10000, 'server exit')).resolves.toEqual({ code: 0, signal: null });
        await waitForStatus(page, 'Disconnected — reconnecting…');
        link.refuse = true; // held off until the restarted server has more than RESUME_MAX new messages per room
        await typeAndEnter(page, 'typed while the server was down');
        await waitUntil('the message to wait for the connection', async () =>
          (await page.getByTestId('pending-state').allTextContents()).includes('Sending once reconnected…'),
        );

        server = await spawnServer(env);
        const postedAtRestart = posted;
        await waitUntil('the writer to post on the restarted server', () => Promise.resolve(posted >= postedAtRestart + 40), 10000);
        link.refuse = false;
        await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
        await page.locator('.user.me').filter({ hasText: 'carol' }).waitFor();
        await waitUntil('nothing pending', async () => (await pendingTexts(page)).length === 0);
        await waitUntil('more live messages after the reconnect', () => Promise.resolve(posted >= postedAtRestart + 60), 10000);
      } finally {
        writing = false;
        await withTimeout(writer, 10000, 'the writer to stop');
      }

      for (const room of ['general', 'eng']) {
        await openRoom(page, room);
        const stored = await storedMessages(origin, room);
        await waitUntil(`#${room} to show every stored message`, async () => (await messageIds(page)).length === stored.length, 10000);
        expect(await messageIds(page)).toEqual(stored.map((m) => m.id));
        expect(await messageTexts(page)).toEqual(stored.map((m) => m.message));
      }
      await openRoom(page, 'general');
      const texts = await messageTexts(page);
      for (const text of ['before the restart', 'right before the restart', 'typed while the server was down']) {
        expect(texts.filter((t) => t === text)).toHaveLength(1);
      }
      // The missed messages beyond the replay were paged in over REST.
      expect(paged.some((url) => /[?&]after=\d+/.test(url) && /[?&]before=\d+/.test(url))).toBe(true);
    }, 60000);

    it('after a restart on an empty database shows what the new server has, not what it lost', async () => {
      const port = await freePort();
      server = await spawnServer({ PORT: String(port), SQLITE_PATH: join(dir, 'old.sqlite') });
      const origin = `http://127.0.0.1:${port}`;
      const link = new TestLink();
      const page = await openChat(origin, DESKTOP, link.route);
      for (const text of ['old 1', 'old 2', 'old 3']) await typeAndEnter(page, text);
      await waitForMessage(page, 'old 3');

      server.child.kill('SIGTERM');
      await expect(withTimeout(server.exited, 10000, 'server exit')).resolves.toEqual({ code: 0, signal: null });
      await waitForStatus(page, 'Disconnected — reconnecting…');
      link.refuse = true;
      server = await spawnServer({ PORT: String(port), SQLITE_PATH: join(dir, 'new.sqlite') });
      // The new server's first message gets id 1, which the page showed as "old 1".
      const writer = (await ChatClient.join(server.wsUrl)).client;
      writer.send('message', { message: 'new 1' });
      await writer.nextOfType('message');
      link.refuse = false;

      await waitForStatus(page, 'Connected', RECONNECT_WAIT_MS);
      await page.getByTestId('notice').filter({ hasText: 'The server no longer has the earlier messages.' }).waitFor();
      await waitForMessage(page, 'new 1');
      expect(await messageTexts(page)).toEqual(['new 1']);
      writer.send('message', { message: 'new 2' });
      await typeAndEnter(page, 'new 3');
      await waitForMessage(page, 'new 3');
      await waitForMessage(page, 'new 2');
      await writer.close();
      expect(await messageTexts(page)).toEqual(['new 1', 'new 2', 'new 3']);
      expect(await messageIds(page)).toEqual((await storedMessages(origin)).map((m) => m.id));
    }, 60000);
  });
});

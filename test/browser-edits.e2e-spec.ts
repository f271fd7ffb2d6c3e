import type { Page } from 'playwright-core';
import { ChatTabs, messageTexts, TestLink, typeAndEnter, waitForMessage, waitUntil } from './support/browser';
import type { ChatClient } from './support/chat-client';
import { JWT_ENV, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

/** The message item showing `text`. */
const messageWith = (page: Page, text: string) => page.getByTestId('message').filter({ has: page.locator('.body', { hasText: text }) });
const deletedCount = (page: Page) => page.locator('[data-testid="message"][data-deleted="true"]').count();

describe('web client: editing and deleting messages (e2e, Chromium)', () => {
  const chat = new ChatTabs();
  let server: TestServer;

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  afterEach(async () => {
    await chat.closeTabs();
    await server.close();
  });

  describe('anonymous', () => {
    beforeEach(async () => {
      server = await startServer();
    });

    it("shows an edit and a deletion made in one tab in another, with an (edited) mark and a placeholder; others' messages have no controls", async () => {
      const writer = await chat.open(server.httpUrl);
      const reader = await chat.open(server.httpUrl);
      await typeAndEnter(writer, 'helo wrld');
      await typeAndEnter(writer, 'delete me');
      await waitForMessage(reader, 'delete me');
      await expect(messageWith(reader, 'helo wrld').getByTestId('message-edit').count()).resolves.toBe(0);

      const mine = messageWith(writer, 'helo wrld');
      await mine.hover();
      await mine.getByTestId('message-edit').click();
      await writer.getByTestId('message-editor-input').fill('hello world');
      await writer.getByTestId('message-editor-input').press('Enter');

      await waitForMessage(reader, 'hello world');
      await expect(messageWith(reader, 'hello world').getByTestId('edited-mark').textContent()).resolves.toBe('(edited)');
      await waitUntil('the edit in the writing tab too', async () => (await messageWith(writer, 'hello world').getByTestId('edited-mark').count()) === 1);

      const doomed = messageWith(writer, 'delete me');
      await doomed.hover();
      await doomed.getByTestId('message-delete').click();
      await writer.getByTestId('message-confirm-delete').click();

      await waitUntil('the placeholder in the other tab', async () => (await deletedCount(reader)) === 1);
      await expect(reader.locator('[data-deleted="true"]').textContent()).resolves.toBe('Message deleted');
      expect(await messageTexts(reader)).toEqual(['hello world']);
      await waitUntil('the placeholder in the writing tab', async () => (await deletedCount(writer)) === 1);
      expect(chat.received(reader, 'delete me')).toBe(true); // it had been shown; now nothing of it is
      await expect(reader.getByText('delete me').count()).resolves.toBe(0);
    });

    it('shows, after a dropped connection, the edits and deletions made meanwhile (the resume replays them)', async () => {
      const link = new TestLink();
      const writer = await chat.open(server.httpUrl);
      const reader = await chat.open(server.httpUrl, { beforeLoad: link.route });
      await typeAndEnter(writer, 'to be edited');
      await typeAndEnter(writer, 'to be deleted');
      await waitForMessage(reader, 'to be deleted');

      link.refuse = true;
      await link.drop();
      const edited = messageWith(writer, 'to be edited');
      await edited.hover();
      await edited.getByTestId('message-edit').click();
      await writer.getByTestId('message-editor-input').fill('edited while you were away');
      await writer.getByTestId('message-save').click();
      await waitForMessage(writer, 'edited while you were away');
      const deleted = messageWith(writer, 'to be deleted');
      await deleted.hover();
      await deleted.getByTestId('message-delete').click();
      await writer.getByTestId('message-confirm-delete').click();
      await waitUntil('deleted in the writing tab', async () => (await deletedCount(writer)) === 1);
      link.refuse = false;

      await waitForMessage(reader, 'edited while you were away');
      await waitUntil('the placeholder after the resume', async () => (await deletedCount(reader)) === 1);
      expect(await messageTexts(reader)).toEqual(['edited while you were away']);
    });
  });

  describe('signed in', () => {
    let clients: ChatClient[];

    beforeEach(async () => {
      server = await startServer(JWT_ENV);
      clients = [];
    });

    afterEach(() => Promise.all(clients.map((c) => c.close())));

    it("gives an admin Delete (not Edit) on everyone's messages", async () => {
      const { client: ann } = await signIn(server, 'ann');
      clients.push(ann);
      ann.send('message', { message: 'spam from ann' });
      const admin = await chat.open(`${server.httpUrl}/#token=${await tokenFor('root', 'root', ['admin'])}`);
      const viewer = await chat.open(`${server.httpUrl}/#token=${await tokenFor('bob')}`);
      await waitForMessage(admin, 'spam from ann');
      await waitForMessage(viewer, 'spam from ann');
      await expect(messageWith(viewer, 'spam from ann').getByTestId('message-delete').count()).resolves.toBe(0);

      const spam = messageWith(admin, 'spam from ann');
      await spam.hover();
      await expect(spam.getByTestId('message-edit').count()).resolves.toBe(0);
      await spam.getByTestId('message-delete').click();
      await admin.getByTestId('message-confirm-delete').click();

      await waitUntil('the placeholder for the other user', async () => (await deletedCount(viewer)) === 1);
      await ann.next((f) => f.type === 'message_deleted');
    });
  });
});

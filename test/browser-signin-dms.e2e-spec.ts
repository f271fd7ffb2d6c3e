import { dmEntry, messageTexts, TestLink, typeAndEnter, unreadOf, waitForMessage, waitForStatus, waitForText, waitUntil } from './support/browser';
import type { ChatClient, Frame } from './support/chat-client';
import { signedInBrowser } from './support/signed-in-browser';

describe('web client: direct messages of a signed-in user (e2e, Chromium, AUTH_MODE=jwt)', () => {
  const { chat, connect, openAs, restartWith } = signedInBrowser();

  /** `from` sends a DM to user id `to` and waits for its ack. */
  async function dm(from: ChatClient, to: string, message: string): Promise<Frame> {
    const clientMsgId = `d-${Math.random().toString(36).slice(2)}`;
    from.send('dm', { to, message, clientMsgId });
    return from.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
  }

  it('shows the direct messages sent while the user was away, unread, by sender; a reply goes by user id', async () => {
    const alice = await connect('alice-id', 'Alice');
    const first = await openAs('bob-id', 'Bob'); // signed in once: the server knows Bob from now on
    await alice.next((f) => f.type === 'notification' && f.event === 'join' && f.userId === 'bob-id');
    await chat.closeTabs([first]);
    // Gone on the server too: a DM written to a connection that is still closing counts as delivered.
    await alice.next((f) => f.type === 'notification' && f.event === 'leave' && f.userId === 'bob-id');
    await dm(alice, 'bob-id', 'sent while you were away');
    await dm(alice, 'bob-id', 'and a second one');

    const bob = await openAs('bob-id', 'Bob');
    await waitUntil('the conversation with Alice', () => dmEntry(bob, 'alice-id').isVisible());
    await waitUntil('two unread', async () => (await unreadOf(dmEntry(bob, 'alice-id'))) === 2);
    await dmEntry(bob, 'alice-id').getByRole('button').click();
    await waitForText(bob, 'conversation-title', '@Alice');
    await waitForMessage(bob, 'and a second one');
    expect(await messageTexts(bob)).toEqual(['sent while you were away', 'and a second one']);
    await expect(unreadOf(dmEntry(bob, 'alice-id'))).resolves.toBe(0);

    await typeAndEnter(bob, 'got them');
    const reply = await alice.next((f) => f.type === 'direct' && f.message === 'got them');
    expect(reply).toMatchObject({ from: 'Bob', fromId: 'bob-id', to: 'Alice', toId: 'alice-id' });
    const sent = chat.tabs.get(bob)!.sent.map(({ payload }) => JSON.parse(payload) as { event: string; data: Record<string, unknown> });
    expect(sent.filter((f) => f.event === 'dm').map((f) => f.data.to)).toEqual(['alice-id']);
  });

  it('after a dropped connection, a resume brings the direct messages missed meanwhile, each once', async () => {
    const link = new TestLink();
    const bob = await openAs('bob-id', 'Bob', link);
    const alice = await connect('alice-id', 'Alice');
    await typeAndEnter(bob, 'a room message, so that the page resumes'); // the page resumes from what it saw
    await waitForMessage(bob, 'a room message, so that the page resumes');
    await dm(alice, 'bob-id', 'before the drop');
    await waitUntil('the conversation', () => dmEntry(bob, 'alice-id').isVisible());
    await dmEntry(bob, 'alice-id').getByRole('button').click(); // on screen: its recent messages are loaded once, now
    await waitForMessage(bob, 'before the drop');

    link.refuse = true;
    await link.drop();
    await waitForStatus(bob, 'Disconnected — reconnecting…');
    await dm(alice, 'bob-id', 'while the connection was down');
    link.refuse = false;
    await waitForStatus(bob, 'Connected', 20000);

    await waitForMessage(bob, 'while the connection was down');
    expect(await messageTexts(bob)).toEqual(['before the drop', 'while the connection was down']);
    expect(chat.received(bob, 'while the connection was down')).toBe(true); // replayed over the socket, not read over REST
  });

  it('after a reload, lists the conversations the server keeps, with their messages', async () => {
    const bob = await openAs('bob-id', 'Bob');
    const alice = await connect('alice-id', 'Alice');
    await dm(alice, 'bob-id', 'kept by the server');
    await waitUntil('the conversation', () => dmEntry(bob, 'alice-id').isVisible());

    await bob.reload();
    await waitForStatus(bob, 'Connected');
    await waitUntil('the conversation again', () => dmEntry(bob, 'alice-id').isVisible());
    await dmEntry(bob, 'alice-id').getByRole('button').click();
    await waitForMessage(bob, 'kept by the server');
    expect(await messageTexts(bob)).toEqual(['kept by the server']);
  });

  it('when a resume missed more direct messages than it replays, pages the rest in (a direct gap)', async () => {
    await restartWith({ RESUME_MAX: '2' });
    const link = new TestLink();
    const bob = await openAs('bob-id', 'Bob', link);
    const alice = await connect('alice-id', 'Alice');
    await typeAndEnter(bob, 'a room message, so that the page resumes');
    await waitForMessage(bob, 'a room message, so that the page resumes');
    await dm(alice, 'bob-id', 'dm 0');
    await waitUntil('the conversation', () => dmEntry(bob, 'alice-id').isVisible());
    await dmEntry(bob, 'alice-id').getByRole('button').click();
    await waitForMessage(bob, 'dm 0');

    link.refuse = true;
    await link.drop();
    await waitForStatus(bob, 'Disconnected — reconnecting…');
    const missed = ['dm 1', 'dm 2', 'dm 3', 'dm 4', 'dm 5'];
    for (const text of missed) await dm(alice, 'bob-id', text);
    link.refuse = false;
    await waitForStatus(bob, 'Connected', 20000);

    await waitUntil('every missed DM', async () => (await messageTexts(bob)).length === 6);
    expect(await messageTexts(bob)).toEqual(['dm 0', ...missed]);
    expect(chat.tabs.get(bob)!.received.some((f) => f.includes('"type":"gap"') && f.includes('"direct":true'))).toBe(true);
  });
});

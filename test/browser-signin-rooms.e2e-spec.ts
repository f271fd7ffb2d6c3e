import type { Page } from 'playwright-core';
import {
  dmEntry,
  joinRoom,
  messageTexts,
  openRoom,
  roomEntry,
  roomTitles,
  TestLink,
  textOf,
  typeAndEnter,
  waitForMessage,
  waitForStatus,
  waitForText,
  waitUntil,
} from './support/browser';
import type { Frame } from './support/chat-client';
import { signedInBrowser } from './support/signed-in-browser';

const isNotice = (event: string, room: string, sub: string) => (f: Frame) =>
  f.type === 'notification' && f.event === event && f.room === room && f.userId === sub;

/** Whether the room's entry in the list carries the lock. */
function locked(page: Page, room: string): Promise<boolean> {
  return roomEntry(page, room).getByTestId('lock').isVisible();
}

describe('web client: rooms and people of a signed-in user, private rooms (e2e, Chromium, AUTH_MODE=jwt)', () => {
  const { connect, openAs } = signedInBrowser();

  it('shows a private room it is invited to with a lock, its messages, and takes it away on removal', async () => {
    const olga = await connect('olga-id', 'Olga');
    olga.send('create_room', { room: 'plans', visibility: 'private' });
    await olga.next(isNotice('join', 'plans', 'olga-id'));
    olga.send('message', { room: 'plans', message: 'for members only' });
    await olga.next((f) => f.type === 'message' && f.room === 'plans');
    const bob = await openAs('bob-id', 'Bob');
    expect(await roomTitles(bob)).toEqual(['#general']);

    olga.send('invite', { room: 'plans', user: 'bob-id' });
    await waitUntil('#plans listed', async () => (await roomTitles(bob)).includes('#plans'));
    await waitUntil('its lock', () => locked(bob, 'plans'));
    expect(await locked(bob, 'general')).toBe(false);
    await openRoom(bob, 'plans');
    await waitForMessage(bob, 'for members only');
    await expect(bob.getByTestId('conversation-lock').isVisible()).resolves.toBe(true);
    await bob.getByTestId('notice').filter({ hasText: 'Olga added you to #plans, a private room.' }).waitFor();
    await typeAndEnter(bob, 'thanks for the invite');
    await olga.next((f) => f.type === 'message' && f.message === 'thanks for the invite');

    // After a reload the room is still there (the server keeps the user's rooms), locked.
    await bob.reload();
    await waitForText(bob, 'status', 'Connected');
    await waitUntil('#plans listed again, locked', async () => (await roomTitles(bob)).includes('#plans') && (await locked(bob, 'plans')));

    olga.send('remove', { room: 'plans', user: 'bob-id' });
    await waitUntil('#plans gone', async () => !(await roomTitles(bob)).includes('#plans'));
    await waitForText(bob, 'error-text', 'Olga removed you from the private room #plans.');
    await waitForText(bob, 'conversation-title', '#general');

    // Joining it again is refused, in plain words, and leaves nothing behind.
    await bob.getByTestId('join-input').fill('plans');
    await bob.getByTestId('join-input').press('Enter');
    await waitForText(bob, 'error-text', 'That room is private: only its members can join it. Ask its owner to invite you.');
    await waitUntil('no #plans', async () => !(await roomTitles(bob)).includes('#plans'));
  });

  it("a user's rooms follow it across devices: joined on one page, the other lists it; left on one, gone from both", async () => {
    const laptop = await openAs('carol-id', 'Carol');
    const phone = await openAs('carol-id', 'Carol');
    const dave = await connect('dave-id', 'Dave');

    await joinRoom(laptop, 'eng');
    await waitUntil('#eng on the phone', async () => (await roomTitles(phone)).includes('#eng'));
    dave.send('join', { room: 'eng' });
    await dave.next(isNotice('join', 'eng', 'dave-id'));
    dave.send('message', { room: 'eng', message: 'standup in 5' });
    await openRoom(phone, 'eng');
    await waitForMessage(phone, 'standup in 5');
    expect(await locked(phone, 'eng')).toBe(false);

    await laptop.getByTestId('leave-button').click();
    await waitUntil('#eng gone from the phone', async () => !(await roomTitles(phone)).includes('#eng'));
    await waitForText(phone, 'conversation-title', '#general');
    expect(await roomTitles(laptop)).toEqual(['#general']);
    await expect(textOf(phone, 'status')).resolves.toBe('Connected');
  });

  it('after a reconnect, takes the rooms the server has for the user: one left elsewhere goes, one joined elsewhere comes with what was said', async () => {
    const link = new TestLink();
    const phone = await openAs('erin-id', 'Erin', link);
    const laptop = await openAs('erin-id', 'Erin');
    await joinRoom(laptop, 'eng');
    await waitUntil('#eng on the phone', async () => (await roomTitles(phone)).includes('#eng'));
    await typeAndEnter(laptop, 'seen by both');
    await openRoom(phone, 'eng');
    await waitForMessage(phone, 'seen by both');

    link.refuse = true;
    await link.drop();
    await waitForStatus(phone, 'Disconnected — reconnecting…');
    await laptop.getByTestId('leave-button').click(); // eng: left while the phone was away
    await joinRoom(laptop, 'ops'); // ops: joined meanwhile
    await typeAndEnter(laptop, 'said in ops while the phone was away');
    await waitForMessage(laptop, 'said in ops while the phone was away');
    link.refuse = false;

    await waitForStatus(phone, 'Connected', 20000);
    await waitUntil('the phone lists the rooms of the server', async () => JSON.stringify(await roomTitles(phone)) === '["#general","#ops"]');
    await waitForText(phone, 'conversation-title', '#general');
    await openRoom(phone, 'ops');
    await waitForMessage(phone, 'said in ops while the phone was away');
    expect(await messageTexts(phone)).toEqual(['said in ops while the phone was away']);
  });

  it('two users with the same display name are two direct conversations, each answered by user id', async () => {
    const bob = await openAs('bob-id', 'Bob');
    const first = await connect('alex-1', 'Alex');
    const second = await connect('alex-2', 'Alex');
    first.send('dm', { to: 'bob-id', message: 'from the first Alex' });
    second.send('dm', { to: 'bob-id', message: 'from the second Alex' });

    await waitUntil('two conversations', async () => (await dmEntry(bob, 'alex-1').isVisible()) && (await dmEntry(bob, 'alex-2').isVisible()));
    await expect(dmEntry(bob, 'alex-2').getByRole('button').getAttribute('title')).resolves.toBe('User id: alex-2');
    await dmEntry(bob, 'alex-2').getByRole('button').click();
    await waitForText(bob, 'conversation-title', '@Alex');
    await waitForMessage(bob, 'from the second Alex');
    expect(await messageTexts(bob)).toEqual(['from the second Alex']);
    await bob.getByTestId('notice').filter({ hasText: 'Your direct messages with Alex (user id alex-2).' }).waitFor();
    await typeAndEnter(bob, 'to the second Alex only');
    await expect(second.next((f) => f.type === 'direct' && f.message === 'to the second Alex only')).resolves.toMatchObject({ toId: 'alex-2' });
    await first.next((f) => f.type === 'direct' && f.message === 'from the first Alex'); // its own, and nothing after it
    expect(first.frames.some((f) => f.message === 'to the second Alex only')).toBe(false);
  });
});

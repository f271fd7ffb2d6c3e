import { Logger } from '@nestjs/common';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import type { DirectFrame, GapFrame, MessageFrame, ResumedFrame, ServerFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { ResumeService } from './resume.service';

const RESUME_MAX = 3;

const identity = (userId: string): Identity => ({ userId, nickname: userId, roles: [], expiresAt: Date.now() + 300_000 });
const resumed = (lastId: number): ResumedFrame => ({ type: 'resumed', lastId });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// A resume of a signed-in connection (jwt mode) replays the DMs to and from its user with the rooms.
describe(`${ResumeService.name} with signed-in connections`, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let sut: ResumeService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics, { resumeMax: RESUME_MAX, identified: true });
    sut = fixture.resumes;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  async function signIn(userId: string, url = '/'): Promise<Client> {
    const client = fixture.open(url, new FakeTransport(), identity(userId));
    await client.session.whenLive();
    return client;
  }

  /** Stores a DM without delivering it (sent while everyone concerned was away). */
  async function storedDm(fromId: string, toId: string, body = `${fromId} to ${toId}`): Promise<DirectFrame> {
    const { record } = await fixture.store.appendDirect({ from: fromId, to: toId, body, fromId, toId });
    return { type: 'direct', id: record.id, from: fromId, to: toId, message: body, sentAt: record.sentAt, fromId, toId };
  }

  const stored = (room: string): Promise<MessageFrame> => fixture.stored(room);
  const afterWelcome = (client: Client): ServerFrame[] => client.frames().slice(1);
  const replayed = (client: Client): ServerFrame[] => afterWelcome(client).filter((f) => f.type !== 'notification');
  const cursor = async (userId: string): Promise<number | undefined> => (await fixture.users.getUser(userId))?.dmDeliveredId;

  describe('on connect (?since=)', () => {
    it('replays the DMs to and from the user with the room messages, in id order, and no one else’s', async () => {
      await fixture.users.upsertUser({ id: 'u-bob', nickname: 'u-bob', roles: [] });
      const g1 = await stored('general');
      const toBob = await storedDm('u-alice', 'u-bob');
      await storedDm('u-alice', 'u-carol'); // not bob's
      const g4 = await stored('general');
      const fromBob = await storedDm('u-bob', 'u-carol');

      const bob = await signIn('u-bob', '/?since=0');

      expect(replayed(bob)).toEqual([g1, toBob, g4, fromBob, resumed(fromBob.id)]);
    });

    it('replays only above since, and moves the delivery cursor to the newest DM to the user', async () => {
      await fixture.users.upsertUser({ id: 'u-bob', nickname: 'u-bob', roles: [] });
      const before = await storedDm('u-alice', 'u-bob');
      const toBob = await storedDm('u-alice', 'u-bob');
      const fromBob = await storedDm('u-bob', 'u-alice');

      const bob = await signIn('u-bob', `/?since=${before.id}`);

      expect(replayed(bob)).toEqual([toBob, fromBob, resumed(fromBob.id)]);
      await new Promise((resolve) => setImmediate(resolve)); // the cursor is written after the replay, not awaited
      await expect(cursor('u-bob')).resolves.toBe(toBob.id);
      fixture.disconnect(bob);
      // The next connect without ?since= sends only what the replay did not have.
      expect(afterWelcome(await signIn('u-bob')).filter((f) => f.type === 'direct')).toEqual([]);
    });

    it(`announces more than RESUME_MAX (${RESUME_MAX}) DMs with a direct gap before the newest ones`, async () => {
      const dms: DirectFrame[] = [];
      for (let i = 0; i < 5; i++) dms.push(await storedDm('u-alice', 'u-bob'));
      const g = await stored('general');

      const bob = await signIn('u-bob', '/?since=0');

      const gap: GapFrame = { type: 'gap', direct: true, afterId: 0, beforeId: dms[2].id };
      expect(replayed(bob)).toEqual([gap, ...dms.slice(2), g, resumed(g.id)]);
    });

    it('announces DMs deleted by retention above since with a direct gap', async () => {
      const old = await storedDm('u-alice', 'u-bob');
      const kept = await storedDm('u-alice', 'u-bob');
      await fixture.store.database.transaction((runner) => runner.query('UPDATE messages SET sent_at = ? WHERE id = ?', ['2000-01-01T00:00:00.000Z', old.id]));
      await fixture.retention.purgeBatch('direct', '2001-01-01T00:00:00.000Z');

      const bob = await signIn('u-bob', '/?since=0');
      const gap: GapFrame = { type: 'gap', direct: true, afterId: 0, beforeId: kept.id };
      expect(replayed(bob)).toEqual([gap, kept, resumed(kept.id)]);

      const again = await signIn('u-bob', `/?since=${old.id}`);
      expect(replayed(again).filter((f) => f.type === 'gap')).toEqual([]);
    });

    it('drops the live DMs the replay already had, and delivers the rest after it', async () => {
      const alice = await signIn('u-alice');
      const committed = deferred();
      const broadcast = deferred();
      const realAppend = fixture.store.appendDirect.bind(fixture.store);
      jest.spyOn(fixture.store, 'appendDirect').mockImplementationOnce(async (message) => {
        const result = await realAppend(message);
        committed.resolve();
        await broadcast.promise;
        return result;
      });
      await fixture.users.upsertUser({ id: 'u-bob', nickname: 'u-bob', roles: [] });
      const posting = fixture.directs.post(alice.session, { to: 'u-bob', message: 'committed before the read' });
      await committed.promise;
      const read = deferred();
      const gate = deferred();
      const realRead = fixture.dmStore.dmsSince.bind(fixture.dmStore);
      jest.spyOn(fixture.dmStore, 'dmsSince').mockImplementationOnce(async (...args) => {
        const page = await realRead(...args);
        read.resolve();
        await gate.promise;
        return page;
      });

      const bob = fixture.open('/?since=0', new FakeTransport(), identity('u-bob'));
      await read.promise;
      broadcast.resolve();
      await posting;
      await fixture.directs.post(alice.session, { to: 'u-bob', message: 'committed after the read' });
      gate.resolve();
      await bob.session.whenLive();

      const directs = afterWelcome(bob).filter((f): f is DirectFrame => f.type === 'direct');
      expect(directs.map((f) => f.message)).toEqual(['committed before the read', 'committed after the read']);
      expect(afterWelcome(bob).map((f) => f.type)).toEqual(['direct', 'resumed', 'notification', 'direct']);
    });

    it('leaves the cursor to other connections when the replay failed: the DMs it missed still wait', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      jest.spyOn(fixture.dmStore, 'dmsSince').mockRejectedValueOnce(new StoreUnavailableError(new Error('SQLITE_IOERR')));

      const bob = await signIn('u-bob', '/?since=0');

      expect(afterWelcome(bob)[0]).toMatchObject({ type: 'error', code: 'UNAVAILABLE', event: 'resume' });
      expect(fixture.hub.receivesDirectLive('u-bob')).toBe(false);
    });
  });

  describe('resume', () => {
    it('replays the DMs with the rooms and holds the live ones meanwhile', async () => {
      const bob = await signIn('u-bob');
      const alice = await signIn('u-alice');
      const g = await stored('general');
      const waiting = await storedDm('u-alice', 'u-bob');
      bob.clear();
      const read = deferred();
      const gate = deferred();
      const realRead = fixture.dmStore.dmsSince.bind(fixture.dmStore);
      jest.spyOn(fixture.dmStore, 'dmsSince').mockImplementationOnce(async (...args) => {
        const page = await realRead(...args);
        read.resolve();
        await gate.promise;
        return page;
      });

      const resuming = sut.resume(bob.session, { since: 0 });
      await read.promise;
      expect(fixture.hub.receivesDirectLive('u-bob')).toBe(false); // its DMs are being replayed
      await fixture.directs.post(alice.session, { to: 'u-bob', message: 'live' });
      expect(bob.frames()).toEqual([]);
      gate.resolve();
      await resuming;

      expect(bob.frames()).toEqual([g, waiting, resumed(waiting.id), expect.objectContaining({ type: 'direct', message: 'live' })]);
      expect(fixture.hub.receivesDirectLive('u-bob')).toBe(true);
    });

    it('releases the held DMs when the store cannot be read', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const bob = await signIn('u-bob');
      const alice = await signIn('u-alice');
      bob.clear();
      const gate = deferred();
      jest.spyOn(fixture.dmStore, 'dmsSince').mockImplementationOnce(async () => {
        await gate.promise;
        throw new StoreUnavailableError(new Error('SQLITE_IOERR'));
      });

      const resuming = sut.resume(bob.session, { since: 0 });
      await fixture.directs.post(alice.session, { to: 'u-bob', message: 'live' });
      gate.resolve();

      await expect(resuming).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(bob.frames()).toEqual([expect.objectContaining({ type: 'direct', message: 'live' })]);
      expect(fixture.hub.receivesDirectLive('u-bob')).toBe(true);
    });
  });

  it('reads no DMs for an anonymous connection', async () => {
    const reads = jest.spyOn(fixture.dmStore, 'dmsSince');
    const g = await stored('general');
    const guest = fixture.open('/?since=0');
    await guest.session.whenLive();
    await sut.resume(guest.session, { since: 0 });
    expect(replayed(guest)).toEqual([g, resumed(g.id), g, resumed(g.id)]);
    expect(reads).not.toHaveBeenCalled();
  });
});

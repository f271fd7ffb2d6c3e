import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import type { GapFrame, MessageFrame, NotificationFrame, ResumedFrame, ServerFrame } from '../protocol/frames';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { ResumeService } from './resume.service';

const RESUME_MAX = 3;

const gap = (room: string, afterId: number, beforeId: number): GapFrame => ({ type: 'gap', room, afterId, beforeId });
const resumed = (lastId: number): ResumedFrame => ({ type: 'resumed', lastId });
const joinedNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room,
  nickname,
  message: `${nickname} joined`,
});
const leftNote = (room: string, nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'leave',
  room,
  nickname,
  message: `${nickname} left`,
});

describe(ResumeService.name, () => {
  let metrics: ChatMetrics;
  let fixture: ChatFixture;
  let store: MessageStore;
  let sut: ResumeService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(metrics, { resumeMax: RESUME_MAX });
    store = fixture.store;
    sut = fixture.resumes;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  const connect = (nickname: string, rooms?: string[], transport?: FakeTransport): Promise<Client> =>
    fixture.connect(nickname, rooms, transport);
  const storedIn = (...rooms: string[]): Promise<MessageFrame[]> => fixture.storedIn(...rooms);
  const post = (client: Client, room: string, body: string): Promise<MessageFrame> => fixture.post(client, room, body);
  const roomsOf = (client: Client): string[] => [...fixture.hub.roomsOf(client.session)];
  const nicknames = (room: string): string[] => fixture.hub.presence(room).users;

  /** Connects with `?since=&rooms=` and waits until the connect sequence is over; returns what followed the welcome. */
  async function resumeOnConnect(query: string): Promise<{ client: Client; frames: () => ServerFrame[] }> {
    const client = fixture.open(`/?${query}`);
    await client.session.whenLive();
    return { client, frames: () => afterWelcome(client) };
  }

  function afterWelcome(client: Client): ServerFrame[] {
    const [welcome, ...rest] = client.frames();
    expect(welcome.type).toBe('welcome');
    return rest;
  }

  /**
   * Makes the next `reads` newestSince calls slow: each reads the database at once (`read`
   * settles when all have), but hands its page over only on `release()`.
   */
  function slowReads(reads: number): { read: Promise<void>; release: () => void } {
    const realNewestSince = store.newestSince.bind(store);
    const gate = deferred();
    const read = deferred();
    let done = 0;
    const spy = jest.spyOn(store, 'newestSince');
    for (let i = 0; i < reads; i++) {
      spy.mockImplementationOnce(async (room, after, limit) => {
        const page = await realNewestSince(room, after, limit);
        if (++done === reads) read.resolve();
        await gate.promise;
        return page;
      });
    }
    return { read: read.promise, release: gate.resolve };
  }

  /** Makes the next newestSince call fail with `failure`, but only on `release()`. */
  function slowFailure(failure: Error): () => void {
    const gate = deferred();
    jest.spyOn(store, 'newestSince').mockImplementationOnce(async () => {
      await gate.promise;
      throw failure;
    });
    return gate.resolve;
  }

  /** The next `appends` commit at once, but their callers (which broadcast them) resume only on `release()`. */
  function lateBroadcasts(appends: number): { committed: Promise<void>; release: () => void } {
    const realAppend = store.append.bind(store);
    const gate = deferred();
    const committed = deferred();
    let done = 0;
    const spy = jest.spyOn(store, 'append');
    for (let i = 0; i < appends; i++) {
      spy.mockImplementationOnce(async (message) => {
        const stored = await realAppend(message);
        if (++done === appends) committed.resolve();
        await gate.promise;
        return stored;
      });
    }
    return { committed: committed.promise, release: gate.resolve };
  }

  it('reads RESUME_MAX from the configuration', async () => {
    sut = new ResumeService(fixture.hub, store, fixture.errors, new ConfigService({ RESUME_MAX: 1 }), fixture.dmStore, fixture.changes, fixture.retention);
    const [, second] = await storedIn('general', 'general');
    const alice = await connect('alice');

    await sut.resume(alice.session, { since: 0, rooms: ['general'] });

    expect(alice.frames()).toEqual([gap('general', 0, second.id), second, resumed(second.id)]);
  });

  describe('after retention deleted messages', () => {
    /** Deletes the stored messages of `room` up to `through` (included), as the retention job does. */
    async function purge(room: string, through: number): Promise<void> {
      await store.database.transaction((runner) => runner.query('UPDATE messages SET sent_at = ? WHERE room = ? AND id <= ?', ['2000-01-01T00:00:00.000Z', room, through]));
      await expect(fixture.retention.purgeBatch({ room }, '2001-01-01T00:00:00.000Z')).resolves.toEqual(expect.objectContaining({ done: true }));
    }

    it('sends a gap from since to the oldest kept message when the deleted ones lie above since', async () => {
      const [g1, , g3, g4] = await storedIn('general', 'general', 'general', 'general');
      await purge('general', g3.id - 1);
      const alice = await connect('alice', ['general']);

      await sut.resume(alice.session, { since: 0, rooms: ['general'] });
      expect(alice.frames()).toEqual([gap('general', 0, g3.id), g3, g4, resumed(g4.id)]);

      alice.clear();
      await sut.resume(alice.session, { since: g1.id, rooms: ['general'] });
      expect(alice.frames()).toEqual([gap('general', g1.id, g3.id), g3, g4, resumed(g4.id)]);
    });

    it('sends no gap to a client that had seen every deleted message, and a gap past the mark when nothing is kept', async () => {
      const [, g2, g3] = await storedIn('general', 'general', 'general');
      await purge('general', g2.id);
      const alice = await connect('alice', ['general']);

      await sut.resume(alice.session, { since: g2.id, rooms: ['general'] });
      expect(alice.frames()).toEqual([g3, resumed(g3.id)]);

      await purge('general', g3.id);
      alice.clear();
      await sut.resume(alice.session, { since: 0, rooms: ['general'] });
      expect(alice.frames()).toEqual([gap('general', 0, g3.id + 1), resumed(0)]);
    });
  });

  describe('on connect (?since=&rooms=)', () => {
    it('sends the missing messages of several rooms merged in id order, resumed with the last id, then the joins', async () => {
      const [g1, d2, g3, , d5] = await storedIn('general', 'dev', 'general', 'ops', 'dev');

      const { frames } = await resumeOnConnect('since=0&rooms=general,dev');

      expect(frames()).toEqual([g1, d2, g3, d5, resumed(d5.id), joinedNote('general', 'Guest1'), joinedNote('dev', 'Guest1')]);
    });

    it('replays only messages above since', async () => {
      const [, , g3, , d5] = await storedIn('general', 'dev', 'general', 'ops', 'dev');

      const { frames } = await resumeOnConnect('since=2&rooms=general,dev');

      expect(frames()).toEqual([g3, d5, resumed(d5.id), joinedNote('general', 'Guest1'), joinedNote('dev', 'Guest1')]);
    });

    it('sends only resumed, with lastId = since, when nothing is missing', async () => {
      await storedIn('general', 'dev');

      const first = await resumeOnConnect('since=2&rooms=general,dev,empty');
      const beyond = await resumeOnConnect('since=99');

      expect(first.frames()).toEqual([
        resumed(2),
        joinedNote('general', 'Guest1'),
        joinedNote('dev', 'Guest1'),
        joinedNote('empty', 'Guest1'),
        joinedNote('general', 'Guest2'), // the second client's
      ]);
      expect(beyond.frames()).toEqual([resumed(99), joinedNote('general', 'Guest2')]);
    });

    it(`sends no gap when exactly RESUME_MAX (${RESUME_MAX}) messages are missing`, async () => {
      const frames = await storedIn('general', 'general', 'general', 'general');

      const { frames: sent } = await resumeOnConnect('since=1');

      expect(sent()).toEqual([...frames.slice(1), resumed(4), joinedNote('general', 'Guest1')]);
    });

    it('sends a gap, then the newest RESUME_MAX, when more are missing', async () => {
      const frames = await storedIn('general', 'general', 'general', 'general', 'general');

      const { frames: sent } = await resumeOnConnect('since=1');

      expect(sent()).toEqual([gap('general', 1, 3), ...frames.slice(2), resumed(5), joinedNote('general', 'Guest1')]);
    });

    it('sends the gap of each room that has one before any message', async () => {
      // general: 1 3 5 7 9; dev: 2 4 6 8 10; ops: 11
      const frames = await storedIn(...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'general' : 'dev')), 'ops');

      const { frames: sent } = await resumeOnConnect('since=0&rooms=general,dev,ops');

      expect(sent().slice(0, -3)).toEqual([gap('general', 0, 5), gap('dev', 0, 6), ...frames.slice(4), resumed(11)]);
    });

    it('drops the live frames the replay already had, and delivers the rest after the joins', async () => {
      const bob = await connect('bob');
      const late = lateBroadcasts(1);
      const posting = post(bob, 'general', 'committed before the read');
      await late.committed;
      const reads = slowReads(1);

      const alice = fixture.open('/?since=0');
      await reads.read;
      late.release(); // broadcast after the read: already in the replay
      const g1 = await posting;
      const live = await post(bob, 'general', 'committed after the read');
      reads.release();
      await alice.session.whenLive();

      expect(afterWelcome(alice)).toEqual([g1, resumed(g1.id), joinedNote('general', 'Guest2'), live]);
    });

    it('sends nothing when the client disconnects while the messages are read', async () => {
      await storedIn('general');
      const bob = await connect('bob');
      const reads = slowReads(1);

      const alice = fixture.open('/?since=0');
      await reads.read;
      fixture.disconnect(alice);
      reads.release();
      await alice.session.whenLive();
      await new Promise((resolve) => setImmediate(resolve));

      expect(afterWelcome(alice)).toEqual([]);
      expect(bob.frames()).toEqual([]);
    });

    it('reports a store failure as UNAVAILABLE for `resume`, then joins the rooms as a plain connect would', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      await storedIn('general', 'dev');
      jest.spyOn(store, 'newestSince').mockRejectedValueOnce(new StoreUnavailableError(new Error('SQLITE_IOERR')));

      const { client, frames } = await resumeOnConnect('since=0&rooms=general,dev');

      expect(frames()).toEqual([
        {
          type: 'error',
          code: 'UNAVAILABLE',
          message: 'The message store is unavailable; nothing was stored or sent, try again',
          event: 'resume',
        },
        joinedNote('general', 'Guest1'),
        joinedNote('dev', 'Guest1'),
      ]);
      expect(roomsOf(client)).toEqual(['general', 'dev']);
    });
  });

  describe('resume', () => {
    it('replays the rooms the session is in when none are given, joining and announcing nothing', async () => {
      const [g1, d2] = await storedIn('general', 'dev', 'ops');
      const alice = await connect('alice', ['general', 'dev']);
      const bob = await connect('bob', ['general', 'dev']);

      await sut.resume(alice.session, { since: 0 });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id)]);
      expect(bob.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general', 'dev']);
    });

    it('joins the rooms it is not in yet and announces them after the replay', async () => {
      const [g1, d2] = await storedIn('general', 'dev');
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['general', 'dev']);
      const carol = await connect('carol', ['general']);

      await sut.resume(alice.session, { since: 0, rooms: ['general', 'dev'] });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general', 'dev']);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(nicknames('dev')).toEqual(['bob', 'alice']);

      alice.clear();
      const later = await post(bob, 'dev', 'later');
      expect(alice.frames()).toEqual([later]);
    });

    it('replays only the rooms asked for, and leaves none', async () => {
      const [, d2] = await storedIn('general', 'dev');
      const alice = await connect('alice', ['general']);

      await sut.resume(alice.session, { since: 0, rooms: ['dev'] });

      expect(alice.frames()).toEqual([d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect(roomsOf(alice)).toEqual(['general', 'dev']);
    });

    it('holds the live frames of the rooms while reading and releases them without duplicates', async () => {
      const [g1] = await storedIn('general');
      const alice = await connect('alice', ['general', 'ops']);
      const bob = await connect('bob', ['general', 'dev', 'ops']);
      const late = lateBroadcasts(1);
      const posting = post(bob, 'dev', 'committed before the read');
      await late.committed;
      const reads = slowReads(2);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['general', 'dev'] });
      await reads.read;
      late.release(); // broadcast after the read: already in the replay
      const d2 = await posting;
      const inGeneral = await post(bob, 'general', 'committed after the read');
      const inDev = await post(bob, 'dev', 'also after the read');
      fixture.rooms.typing(bob.session, { room: 'general' });
      const elsewhere = await post(bob, 'ops', 'meanwhile in ops');
      expect(alice.frames()).toEqual([elsewhere]);
      reads.release();
      await expect(resuming).resolves.toBeUndefined();

      expect(alice.frames()).toEqual([
        elsewhere,
        g1,
        d2,
        resumed(d2.id),
        joinedNote('dev', 'alice'),
        inGeneral,
        { type: 'typing', room: 'general', nickname: 'bob' },
        inDev,
      ]);
      expect(alice.session.isJoining('general')).toBe(false);
      expect(alice.session.isJoining('dev')).toBe(false);
    });

    it('releases held frames above the last replayed id of a room that had a gap', async () => {
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['general']);
      const late = lateBroadcasts(5);
      const posting = Promise.all([1, 2, 3, 4, 5].map(async (i) => fixture.chat.postMessage(bob.session, { message: `m${i}` })));
      await late.committed;
      const frames = (await store.page({ room: 'general', limit: 5 })).messages.map((m) => m.id);
      const reads = slowReads(1);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['general'] });
      await reads.read;
      late.release(); // late broadcasts of stored messages
      await posting;
      const live = await post(bob, 'general', 'after the read');
      reads.release();
      await resuming;

      const sent = alice.frames();
      expect(sent.map((f) => (f.type === 'message' ? f.id : f.type))).toEqual(['gap', ...frames.slice(2), 'resumed', live.id]);
      expect(sent[0]).toEqual(gap('general', 0, frames[2]));
      expect(sent.at(-2)).toEqual(resumed(frames[4]));
    });

    it('rethrows a store failure, leaving the rooms it joined and announcing nothing', async () => {
      await storedIn('general', 'dev');
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['general', 'dev']);
      const failure = new StoreUnavailableError(new Error('SQLITE_IOERR'));
      const fail = slowFailure(failure);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['general', 'dev'] });
      const inGeneral = await post(bob, 'general', 'held, then released');
      await post(bob, 'dev', 'held, then discarded');
      expect(alice.frames()).toEqual([]);
      bob.clear();
      fail();
      await expect(resuming).rejects.toBe(failure);

      expect(alice.frames()).toEqual([inGeneral]);
      expect(bob.frames()).toEqual([]);
      expect(roomsOf(alice)).toEqual(['general']);
      expect(alice.session.isJoining('general')).toBe(false);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(nicknames('dev')).toEqual(['bob']);

      alice.clear();
      const live = await post(bob, 'general', 'after the failure');
      expect(alice.frames()).toEqual([live]);
    });

    it('can be retried after a store failure', async () => {
      const [g1, d2] = await storedIn('general', 'dev');
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['dev']);
      jest.spyOn(store, 'newestSince').mockRejectedValueOnce(new StoreUnavailableError(new Error('SQLITE_BUSY')));
      await expect(sut.resume(alice.session, { since: 0, rooms: ['general', 'dev'] })).rejects.toBeInstanceOf(StoreUnavailableError);
      bob.clear();

      await sut.resume(alice.session, { since: 0, rooms: ['general', 'dev'] });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
    });

    // Like a join, resume checks after its read that the join is still pending.
    it('announces no join for a room the client left while the replay was read', async () => {
      await storedIn('dev');
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['dev']);
      const reads = slowReads(1);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['dev'] });
      await reads.read;
      fixture.rooms.leave(alice.session, { room: 'dev' });
      reads.release();
      await resuming;

      expect(roomsOf(alice)).toEqual(['general']);
      expect(bob.frames()).toEqual([]); // no "alice joined" for a room alice is not in
    });

    it('announces no join when the client disconnects while the replay is read', async () => {
      await storedIn('dev');
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['general', 'dev']);
      const reads = slowReads(1);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['dev'] });
      await reads.read;
      fixture.disconnect(alice);
      reads.release();
      await resuming;

      expect(bob.frames()).toEqual([leftNote('general', 'alice')]); // and no "alice joined" from a disconnected client
      expect(nicknames('dev')).toEqual(['bob']);
    });

    // A resumed room the client was already in is held as announced, so leaving it is announced.
    it('announces a leave of a room the client was already in, made while the replay is read', async () => {
      const alice = await connect('alice', ['general']);
      const bob = await connect('bob', ['general']);
      const reads = slowReads(1);

      const resuming = sut.resume(alice.session, { since: 0, rooms: ['general'] });
      await reads.read;
      fixture.rooms.leave(alice.session, { room: 'general' });
      reads.release();
      await resuming;

      expect(nicknames('general')).toEqual(['bob']);
      expect(bob.frames()).toEqual([leftNote('general', 'alice')]);
      expect(alice.frames()).toEqual([resumed(0)]); // the replay it asked for, and nothing of the room it left
    });

    // ResumeDto accepts ["dev", "dev"].
    it('replays a room listed twice only once', async () => {
      const [d1] = await storedIn('dev');
      const alice = await connect('alice', ['general']);

      await sut.resume(alice.session, { since: 0, rooms: ['dev', 'dev'] });

      expect(alice.frames()).toEqual([d1, resumed(d1.id), joinedNote('dev', 'alice')]);
    });
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

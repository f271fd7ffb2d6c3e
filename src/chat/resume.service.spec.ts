import { ConfigService } from '@nestjs/config';
import type { WebSocket } from 'ws';
import { FanoutService } from '../fanout/fanout.service';
import { MessageStore, StoreUnavailableError } from '../messages/message-store.service';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { RoomMembersService } from '../users/room-members.service';
import type { GapFrame, MessageFrame, ResumedFrame } from './protocol';
import { ResumeService } from './resume.service';
import { RoomsService } from './rooms.service';
import { ChatWorld } from '../../test/support/chat-world';
import { fakeSocket, joinedNote, leftNote, type RecordedClient as Client } from '../../test/support/fakes';

const RESUME_MAX = 3;
const CLOSED = 3;

const gap = (room: string, afterId: number, beforeId: number): GapFrame => ({ type: 'gap', room, afterId, beforeId });
const resumed = (lastId: number): ResumedFrame => ({ type: 'resumed', lastId });

describe(ResumeService.name, () => {
  let metrics: ChatMetrics;
  let world: ChatWorld;
  let store: MessageStore;
  let members: RoomMembersService;
  let fanout: FanoutService;
  let sut: ResumeService;

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(async () => {
    world = await ChatWorld.open(metrics);
    ({ store, members, fanout } = world);
    sut = new ResumeService(members, fanout, store, new ConfigService({ RESUME_MAX }));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await world.close();
  });

  const connect = (nickname: string, rooms?: string[], connecting?: boolean): Client => world.connect(nickname, rooms, connecting);

  /** What ChatService.disconnect does to a session. */
  function disconnect(client: Client): void {
    client.fake.readyState = CLOSED;
    client.session.markClosed();
    fanout.remove(client.session);
    members.leaveAll(client.session);
  }

  /** Stores a message without delivering it (sent while the client was away). */
  async function stored(room: string, body = `in ${room}`): Promise<MessageFrame> {
    return (await store.append({ room, nickname: 'bob', body })).frame;
  }

  /** Stores one message per entry, in order, so their ids follow the list. */
  async function storedIn(...rooms: string[]): Promise<MessageFrame[]> {
    const frames: MessageFrame[] = [];
    for (const room of rooms) frames.push(await stored(room));
    return frames;
  }

  const post = (room: string, body: string): Promise<MessageFrame> => world.post(room, body);


  /**
   * Makes the next `reads` newestSince calls slow: each reads the database at once (`read`
   * settles when all have), but hands its page over only on `release()`.
   */
  function slowReads(reads: number): { read: Promise<void>; release: () => void } {
    const realNewestSince = store.newestSince.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let readDone!: () => void;
    const read = new Promise<void>((resolve) => (readDone = resolve));
    let done = 0;
    const spy = jest.spyOn(store, 'newestSince');
    for (let i = 0; i < reads; i++) {
      spy.mockImplementationOnce(async (room, after, limit) => {
        const page = await realNewestSince(room, after, limit);
        if (++done === reads) readDone();
        await gate;
        return page;
      });
    }
    return { read, release };
  }

  /** Makes the next newestSince call fail with `failure`, but only on `release()`. */
  function slowFailure(failure: Error): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    jest.spyOn(store, 'newestSince').mockImplementationOnce(async () => {
      await gate;
      throw failure;
    });
    return release;
  }

  it(`reads RESUME_MAX from the configuration`, async () => {
    sut = new ResumeService(members, fanout, store, new ConfigService({ RESUME_MAX: 1 }));
    const [, second] = await storedIn('general', 'general');
    const alice = connect('alice', ['general'], true);

    await sut.replay(alice.session, 0, ['general']);

    expect(alice.frames()).toEqual([gap('general', 0, second.id), second, resumed(second.id)]);
  });

  describe('replay', () => {
    it('sends the missing messages of several rooms merged in id order, then resumed with the last id', async () => {
      const [g1, d2, g3, , d5] = await storedIn('general', 'dev', 'general', 'ops', 'dev');
      const alice = connect('alice', ['general', 'dev'], true);

      const lastIds = await sut.replay(alice.session, 0, ['general', 'dev']);

      expect(alice.frames()).toEqual([g1, d2, g3, d5, resumed(d5.id)]);
      expect(lastIds).toEqual(
        new Map([
          ['general', g3.id],
          ['dev', d5.id],
        ]),
      );
    });

    it('replays only messages above since', async () => {
      const [, , g3, , d5] = await storedIn('general', 'dev', 'general', 'ops', 'dev');
      const alice = connect('alice', ['general', 'dev'], true);

      const lastIds = await sut.replay(alice.session, 2, ['general', 'dev']);

      expect(alice.frames()).toEqual([g3, d5, resumed(d5.id)]);
      expect(lastIds).toEqual(
        new Map([
          ['general', g3.id],
          ['dev', d5.id],
        ]),
      );
    });

    it('sends only resumed, with lastId = since, when nothing is missing', async () => {
      await storedIn('general', 'dev');
      const alice = connect('alice', ['general', 'dev'], true);

      const lastIds = await sut.replay(alice.session, 2, ['general', 'dev', 'empty']);
      const beyond = await sut.replay(alice.session, 99, ['general']);

      expect(alice.frames()).toEqual([resumed(2), resumed(99)]);
      expect(lastIds).toEqual(
        new Map([
          ['general', 2],
          ['dev', 2],
          ['empty', 2],
        ]),
      );
      expect(beyond).toEqual(new Map([['general', 99]]));
    });

    it(`sends no gap when exactly RESUME_MAX (${RESUME_MAX}) messages are missing`, async () => {
      const frames = await storedIn('general', 'general', 'general', 'general');
      const alice = connect('alice', ['general'], true);

      await sut.replay(alice.session, 1, ['general']);

      expect(alice.frames()).toEqual([...frames.slice(1), resumed(4)]);
    });

    it('sends a gap, then the newest RESUME_MAX, when more are missing', async () => {
      const frames = await storedIn('general', 'general', 'general', 'general', 'general');
      const alice = connect('alice', ['general'], true);

      const lastIds = await sut.replay(alice.session, 1, ['general']);

      expect(alice.frames()).toEqual([gap('general', 1, 3), ...frames.slice(2), resumed(5)]);
      expect(lastIds).toEqual(new Map([['general', 5]]));
    });

    it('sends the gap of each room that has one before any message', async () => {
      // general: 1 3 5 7 9; dev: 2 4 6 8 10; ops: 11
      const frames = await storedIn(...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'general' : 'dev')), 'ops');
      const alice = connect('alice', ['general', 'dev', 'ops'], true);

      const lastIds = await sut.replay(alice.session, 0, ['general', 'dev', 'ops']);

      expect(alice.frames()).toEqual([gap('general', 0, 5), gap('dev', 0, 6), ...frames.slice(4), resumed(11)]);
      expect(lastIds).toEqual(
        new Map([
          ['general', 9],
          ['dev', 10],
          ['ops', 11],
        ]),
      );
    });

    it('lets a connecting session drop the live frames the replay already had', async () => {
      const [g1] = await storedIn('general');
      const alice = connect('alice', ['general'], true);
      const reads = slowReads(1);

      const replaying = sut.replay(alice.session, 0, ['general']);
      await reads.read;
      fanout.toRoom('general', g1); // broadcast after the read: already in the replay
      const live = await post('general', 'committed after the read');
      reads.release();
      alice.session.goLive(await replaying);

      expect(alice.frames()).toEqual([g1, resumed(g1.id), live]);
    });

    it('sends nothing when the session closes while the messages are read', async () => {
      await storedIn('general');
      const alice = connect('alice', ['general'], true);
      const reads = slowReads(1);

      const replaying = sut.replay(alice.session, 0, ['general']);
      await reads.read;
      alice.session.markClosed();
      reads.release();

      await expect(replaying).resolves.toEqual(new Map());
      expect(alice.frames()).toEqual([]);
    });

    it('rejects with the store error and sends nothing', async () => {
      await storedIn('general', 'dev');
      const alice = connect('alice', ['general', 'dev'], true);
      const failure = new StoreUnavailableError(new Error('SQLITE_IOERR'));
      jest.spyOn(store, 'newestSince').mockRejectedValueOnce(failure);

      await expect(sut.replay(alice.session, 0, ['general', 'dev'])).rejects.toBe(failure);

      expect(alice.frames()).toEqual([]);
    });
  });

  describe('resume', () => {
    let rooms: RoomsService;

    beforeEach(() => {
      rooms = new RoomsService(members, fanout, store);
    });

    it('replays the rooms the session is in when none are given, joining and announcing nothing', async () => {
      const [g1, d2] = await storedIn('general', 'dev', 'ops');
      const alice = connect('alice', ['general', 'dev']);
      const bob = connect('bob', ['general', 'dev']);
      bob.clear();

      await sut.resume(alice.socket, { since: 0 });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id)]);
      expect(bob.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general', 'dev']);
    });

    it('joins the rooms it is not in yet and announces them after the replay', async () => {
      const [g1, d2] = await storedIn('general', 'dev');
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['general', 'dev']);
      const carol = connect('carol', ['general']);
      bob.clear();
      carol.clear();

      await sut.resume(alice.socket, { since: 0, rooms: ['general', 'dev'] });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
      expect(carol.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general', 'dev']);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(members.nicknames('dev')).toEqual(['bob', 'alice']);

      alice.clear();
      const later = await post('dev', 'later');
      expect(alice.frames()).toEqual([later]);
    });

    it('replays only the rooms asked for, and leaves none', async () => {
      const [, d2] = await storedIn('general', 'dev');
      const alice = connect('alice', ['general']);

      await sut.resume(alice.socket, { since: 0, rooms: ['dev'] });

      expect(alice.frames()).toEqual([d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect([...alice.session.rooms]).toEqual(['general', 'dev']);
    });

    it('holds the live frames of the rooms while reading and releases them without duplicates', async () => {
      const [g1, d2] = await storedIn('general', 'dev');
      const alice = connect('alice', ['general', 'ops']);
      const bob = connect('bob', ['general', 'dev', 'ops']);
      alice.clear();
      const reads = slowReads(2);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['general', 'dev'] });
      await reads.read;
      fanout.toRoom('dev', d2); // broadcast after the read: already in the replay
      const inGeneral = await post('general', 'committed after the read');
      const inDev = await post('dev', 'also after the read');
      rooms.typing(bob.socket, { room: 'general' });
      const elsewhere = await post('ops', 'meanwhile in ops');
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
      const frames = await storedIn('general', 'general', 'general', 'general', 'general');
      const alice = connect('alice', ['general']);
      alice.clear();
      const reads = slowReads(1);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['general'] });
      await reads.read;
      for (const frame of frames) fanout.toRoom('general', frame); // late broadcasts of stored messages
      const live = await post('general', 'after the read');
      reads.release();
      await resuming;

      expect(alice.frames()).toEqual([gap('general', 0, 3), ...frames.slice(2), resumed(5), live]);
    });

    it('rethrows a store failure, leaving the rooms it joined and announcing nothing', async () => {
      await storedIn('general', 'dev');
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['general', 'dev']);
      alice.clear();
      bob.clear();
      const failure = new StoreUnavailableError(new Error('SQLITE_IOERR'));
      const fail = slowFailure(failure);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['general', 'dev'] });
      const inGeneral = await post('general', 'held, then released');
      await post('dev', 'held, then discarded');
      expect(alice.frames()).toEqual([]);
      bob.clear();
      fail();
      await expect(resuming).rejects.toBe(failure);

      expect(alice.frames()).toEqual([inGeneral]);
      expect(bob.frames()).toEqual([]);
      expect([...alice.session.rooms]).toEqual(['general']);
      expect(alice.session.isJoining('general')).toBe(false);
      expect(alice.session.isJoining('dev')).toBe(false);
      expect(members.nicknames('dev')).toEqual(['bob']);

      alice.clear();
      const live = await post('general', 'after the failure');
      expect(alice.frames()).toEqual([live]);
    });

    it('can be retried after a store failure', async () => {
      const [g1, d2] = await storedIn('general', 'dev');
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['dev']);
      alice.clear();
      jest.spyOn(store, 'newestSince').mockRejectedValueOnce(new StoreUnavailableError(new Error('SQLITE_BUSY')));
      await expect(sut.resume(alice.socket, { since: 0, rooms: ['general', 'dev'] })).rejects.toBeInstanceOf(StoreUnavailableError);
      bob.clear();

      await sut.resume(alice.socket, { since: 0, rooms: ['general', 'dev'] });

      expect(alice.frames()).toEqual([g1, d2, resumed(d2.id), joinedNote('dev', 'alice')]);
      expect(bob.frames()).toEqual([joinedNote('dev', 'alice')]);
    });

    it('rejects for a socket with no session', async () => {
      const stranger = fakeSocket() as unknown as WebSocket;
      await expect(sut.resume(stranger, { since: 0 })).rejects.toThrow('frame from a socket with no session');
    });

    // Like RoomsService.join, resume checks after its read that the join is still pending.
    it('announces no join for a room the client left while the replay was read', async () => {
      await storedIn('dev');
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['dev']);
      alice.clear();
      bob.clear();
      const reads = slowReads(1);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['dev'] });
      await reads.read;
      rooms.leave(alice.socket, { room: 'dev' });
      reads.release();
      await resuming;

      expect([...alice.session.rooms]).toEqual(['general']);
      expect(bob.frames()).toEqual([]); // no "alice joined" for a room alice is not in
    });

    // A session that closed during the read announces nothing.
    it('announces no join when the client disconnects while the replay is read', async () => {
      await storedIn('dev');
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['general', 'dev']);
      alice.clear();
      bob.clear();
      const reads = slowReads(1);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['dev'] });
      await reads.read;
      disconnect(alice);
      reads.release();
      await resuming;

      expect(bob.frames()).toEqual([]); // no "alice joined" from a disconnected client
      expect(members.nicknames('dev')).toEqual(['bob']);
    });

    // A resumed room the client was already in is held as announced, so leaving it is announced.
    it('announces a leave of a room the client was already in, made while the replay is read', async () => {
      const alice = connect('alice', ['general']);
      const bob = connect('bob', ['general']);
      bob.clear();
      const reads = slowReads(1);

      const resuming = sut.resume(alice.socket, { since: 0, rooms: ['general'] });
      await reads.read;
      rooms.leave(alice.socket, { room: 'general' });
      reads.release();
      await resuming;

      expect(members.nicknames('general')).toEqual(['bob']);
      expect(bob.frames()).toEqual([leftNote('general', 'alice')]); // receives nothing
    });

    // ResumeDto accepts ["dev", "dev"].
    it('replays a room listed twice only once', async () => {
      const [d1] = await storedIn('dev');
      const alice = connect('alice', ['general']);
      alice.clear();

      await sut.resume(alice.socket, { since: 0, rooms: ['dev', 'dev'] });

      expect(alice.frames()).toEqual([d1, resumed(d1.id), joinedNote('dev', 'alice')]);
    });
  });
});

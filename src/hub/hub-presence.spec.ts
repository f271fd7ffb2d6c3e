import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MAX_DIFF_NAMES, notification, type NickUpdateFrame, type PresenceDiffFrame, type ServerFrame } from '../protocol/frames';
import { FakeTransport } from './fake-transport';
import { Hub } from './hub';
import { LocalBroker } from './local-broker';
import type { Session } from './session';

/** Rooms of more than THRESHOLD members get presence_diff frames. */
const THRESHOLD = 2;
const INTERVAL_MS = 1000;

interface Client {
  session: Session;
  transport: FakeTransport;
}

const joined = (room: string, nickname: string) => notification('join', room, nickname);
const left = (room: string, nickname: string) => notification('leave', room, nickname);
/** A diff that lists every change (a capped one is spelled out where it is expected). */
const diff = (room: string, joins: string[], leaves: string[], usersTotal: number): PresenceDiffFrame => ({
  type: 'presence_diff',
  room,
  joins,
  leaves,
  joinsTotal: joins.length,
  leavesTotal: leaves.length,
  usersTotal,
});
const nickUpdate = (previous: string, nickname: string): NickUpdateFrame => ({
  type: 'nick_update',
  nickname,
  previous,
  message: `${previous} is now known as ${nickname}`,
});

describe(`${Hub.name} presence`, () => {
  let metrics: ChatMetrics;
  let sut: Hub;
  let clients: Client[];

  beforeAll(() => {
    metrics = new ChatMetrics();
  });

  beforeEach(() => {
    jest.useFakeTimers();
    sut = new Hub(new LocalBroker(), metrics, { presenceBatchThreshold: THRESHOLD, presenceBatchMs: INTERVAL_MS, nickHoldMs: 30_000 });
    clients = [];
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  /** Connects as ChatService does (open, enter, goLive), then renames. */
  function connect(nickname: string, rooms: string[] = ['general']): Client {
    const transport = new FakeTransport();
    const session = sut.open(transport, '127.0.0.1');
    sut.enter(session, rooms);
    sut.goLive(session);
    sut.rename(session, nickname);
    const client = { session, transport };
    clients.push(client);
    return client;
  }

  /** Runs the pending interval and forgets everything sent so far. */
  function settle(): void {
    jest.advanceTimersByTime(INTERVAL_MS);
    for (const c of clients) c.transport.clear();
  }

  const frames = (client: Client): ServerFrame[] => client.transport.frames();
  const diffs = (client: Client): ServerFrame[] => frames(client).filter((f) => f.type === 'presence_diff');

  describe(`a room of up to the threshold's members (${THRESHOLD})`, () => {
    it('announces each join and leave at once, to every member, the joiner included', () => {
      const a = connect('a');
      settle();

      const b = connect('b'); // 2 members: not over the threshold
      expect(frames(a)).toEqual([joined('general', 'Guest2'), nickUpdate('Guest2', 'b')]);
      expect(frames(b)[0]).toEqual(joined('general', 'Guest2'));

      sut.close(b.session);
      expect(frames(a).at(-1)).toEqual(left('general', 'b'));

      jest.advanceTimersByTime(INTERVAL_MS);
      expect(diffs(a)).toEqual([]);
    });
  });

  describe('a room over the threshold', () => {
    let a: Client;
    let b: Client;

    beforeEach(() => {
      a = connect('a');
      b = connect('b');
      settle();
    });

    it("gives the joiner its own join notification at once, and the others one presence_diff an interval later", () => {
      const c = connect('c');
      const d = connect('d');

      expect(frames(a)).toEqual([nickUpdate('Guest3', 'c'), nickUpdate('Guest4', 'd')]);
      expect(frames(c)).toEqual([joined('general', 'Guest3'), nickUpdate('Guest3', 'c'), nickUpdate('Guest4', 'd')]);
      expect(frames(d)[0]).toEqual(joined('general', 'Guest4'));

      jest.advanceTimersByTime(INTERVAL_MS);

      for (const client of [a, b, c, d]) expect(diffs(client)).toEqual([diff('general', ['c', 'd'], [], 4)]);
    });

    it('batches leaves, with the room size at the time of the diff', () => {
      connect('c');
      settle();

      sut.close(b.session);
      sut.leave(a.session, 'general');
      expect(frames(clients[2])).toEqual([]);

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(frames(clients[2])).toEqual([diff('general', [], ['b', 'a'], 1)]);
    });

    it('sends one presence_diff per room per interval, whatever the churn', () => {
      for (let i = 0; i < 10; i++) connect(`x${i}`);
      for (let i = 0; i < 5; i++) sut.close(clients[2 + i].session);

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs(a)).toEqual([diff('general', ['x5', 'x6', 'x7', 'x8', 'x9'], [], 7)]);

      for (let i = 5; i < 10; i++) sut.close(clients[2 + i].session);
      jest.advanceTimersByTime(INTERVAL_MS - 1);
      expect(diffs(a)).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(diffs(a)).toEqual([
        diff('general', ['x5', 'x6', 'x7', 'x8', 'x9'], [], 7),
        diff('general', [], ['x5', 'x6', 'x7', 'x8', 'x9'], 2),
      ]);
    });

    it('announces nothing of a member that joined and left within one interval', () => {
      const c = connect('c');

      sut.close(c.session);
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs(a)).toEqual([]);
      expect(frames(a)).toEqual([nickUpdate('Guest3', 'c')]);
    });

    it('names a member renamed while its join is pending by its new name', () => {
      const c = connect('c');
      sut.rename(c.session, 'carol');

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(frames(a)).toEqual([nickUpdate('Guest3', 'c'), nickUpdate('c', 'carol'), diff('general', ['carol'], [], 3)]);
    });

    it('names a member renamed after leaving, while its leave is pending, by its new name', () => {
      const c = connect('c', ['general', 'dev']);
      settle();
      sut.leave(c.session, 'general');

      sut.rename(c.session, 'carol');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(frames(a)).toEqual([nickUpdate('c', 'carol'), diff('general', [], ['carol'], 2)]);
    });

    it('keeps batching a room that shrank while a diff is pending, so clients see its changes in order', () => {
      const c = connect('c'); // 3 members: batched
      sut.close(a.session); // batched
      settle();
      const d = connect('d'); // pending join of d (3 members)
      sut.close(c.session); // pending leave of c, 2 members

      sut.close(d.session); // 2 members with d: would be announced at once, before the diff that says d joined

      expect(frames(b)).toEqual([nickUpdate('Guest4', 'd')]);
      jest.advanceTimersByTime(INTERVAL_MS);
      expect(frames(b)).toEqual([nickUpdate('Guest4', 'd'), diff('general', [], ['c'], 1)]);

      sut.leave(b.session, 'general'); // nothing pending any more: at once (to nobody, the room is empty)
      expect(sut.roomCounts().has('general')).toBe(false);
    });

    it('keeps the rooms of one member apart', () => {
      const c = connect('c', ['general', 'dev']);
      const d = connect('d', ['dev']);
      settle();
      connect('e', ['dev']); // dev: 3 members

      sut.close(c.session);
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs(a)).toEqual([diff('general', [], ['c'], 2)]);
      expect(diffs(d)).toEqual([diff('dev', ['e'], ['c'], 2)]);
    });

    it('sends no pending diff once quietened (shutdown)', () => {
      connect('c');

      sut.quieten();
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs(a)).toEqual([]);
    });

    it(`names at most ${MAX_DIFF_NAMES} joins and ${MAX_DIFF_NAMES} leaves per diff, the earliest, with the totals and the exact room size`, () => {
      const leaverNames = Array.from({ length: MAX_DIFF_NAMES + 2 }, (_, i) => `l${i}`);
      const leavers = leaverNames.map((name) => connect(name));
      settle();
      const joiners = Array.from({ length: MAX_DIFF_NAMES + 3 }, (_, i) => `j${i}`);

      for (const name of joiners) connect(name);
      for (const leaver of leavers) sut.close(leaver.session);
      jest.advanceTimersByTime(INTERVAL_MS);

      const expected: PresenceDiffFrame = {
        type: 'presence_diff',
        room: 'general',
        joins: joiners.slice(0, MAX_DIFF_NAMES),
        leaves: leaverNames.slice(0, MAX_DIFF_NAMES),
        joinsTotal: MAX_DIFF_NAMES + 3,
        leavesTotal: MAX_DIFF_NAMES + 2,
        usersTotal: 2 + MAX_DIFF_NAMES + 3,
      };
      expect(diffs(a)).toEqual([expected]);
      expect(diffs(clients.at(-1)!)).toEqual([expected]);
    });

    it('joins by `join` the same way: presence and its own notification at once, a diff for the others', async () => {
      const c = connect('c', []);
      settle();

      await sut.join(c.session, 'general', () => Promise.resolve({ frames: [], lastId: 0 }));

      expect(frames(c)).toEqual([
        { type: 'presence', room: 'general', users: ['a', 'b', 'c'], usersTotal: 3, offset: 0 },
        joined('general', 'c'),
      ]);
      expect(frames(a)).toEqual([]);
      jest.advanceTimersByTime(INTERVAL_MS);
      expect(frames(a)).toEqual([diff('general', ['c'], [], 3)]);
    });
  });
});

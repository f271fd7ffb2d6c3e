import {
  encodeFrame,
  type DirectFrame,
  type MessageFrame,
  type NickUpdateFrame,
  type NotificationFrame,
  type WelcomeFrame,
} from '../protocol/frames';
import { FakeTransport } from './fake-transport';
import {
  PACED_HIGH_WATER,
  PACED_LOW_WATER,
  Session,
  SLOW_CONSUMER_BYTES,
  SLOW_CONSUMER_GRACE_MS,
  SLOW_CONSUMER_HARD_BYTES,
} from './session';

const message = (id: number, room = 'general'): MessageFrame => ({
  type: 'message',
  id,
  room,
  nickname: 'alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
});

const notification = (nickname: string, room = 'general'): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room,
  nickname,
  message: `${nickname} joined`,
});

const welcome: WelcomeFrame = {
  type: 'welcome',
  nickname: 'Guest1',
  message: 'Welcome, Guest1',
  users: ['Guest1'],
  usersTotal: 1,
  room: 'general',
  rooms: ['general'],
  reconnectToken: 'A'.repeat(43),
};

const nickUpdate: NickUpdateFrame = { type: 'nick_update', nickname: 'bobby', previous: 'bob', message: 'bob is now known as bobby' };

const direct: DirectFrame = {
  type: 'direct',
  id: 1,
  from: 'bob',
  to: 'Guest1',
  message: 'psst',
  sentAt: '2026-11-21T23:44:19.123Z',
};

/** goLive's argument: the last message id each room's history page contained. */
const upTo = (lastIds: Record<string, number> = {}): ReadonlyMap<string, number> => new Map(Object.entries(lastIds));

/** Delivers the way the hub does: room frames with their room (and id for messages), others with neither. */
function deliver(session: Session, frame: MessageFrame | NotificationFrame | NickUpdateFrame | DirectFrame): Buffer {
  const data = encodeFrame(frame);
  if (frame.type === 'message') session.deliver(data, frame.id, frame.room);
  else if (frame.type === 'notification') session.deliver(data, 0, frame.room);
  else session.deliver(data, 0, undefined);
  return data;
}

/** Counts like prom-client's Counter. */
class Counter {
  count = 0;
  inc(value = 1): void {
    this.count += value;
  }
}

describe(Session.name, () => {
  let transport: FakeTransport;
  let counter: Counter;
  let sut: Session;

  beforeEach(() => {
    transport = new FakeTransport();
    counter = new Counter();
    sut = new Session(7, transport, 'Guest1', '10.0.0.1', counter);
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('starts held, not live, not closed, with its id, nickname and address', () => {
    expect(sut.id).toBe(7);
    expect(sut.isLive).toBe(false);
    expect(sut.isClosed).toBe(false);
    expect(sut.nickname).toBe('Guest1');
    expect(sut.remoteAddress).toBe('10.0.0.1');
    expect(sut.connectedAt).toBeLessThanOrEqual(Date.now());
    expect([...sut.typingAt]).toEqual([]);
    expect(sut.isJoining('general')).toBe(false);
    expect(sut.isHeld('general')).toBe(false);
  });

  describe('before goLive', () => {
    it('holds delivered frames, with or without a room', () => {
      deliver(sut, message(1));
      deliver(sut, notification('bob'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      expect(transport.written).toEqual([]);
    });

    it('sends send() frames at once, ahead of held ones', () => {
      deliver(sut, notification('bob'));
      sut.send(welcome);

      expect(transport.frames()).toEqual([welcome]);
    });

    it('writes write() data at once, the very buffer', () => {
      const data = encodeFrame(notification('Guest1'));
      expect(sut.write(data)).toBe(true);
      expect(transport.written).toHaveLength(1);
      expect(transport.written[0]).toBe(data);
    });
  });

  describe('whenLive', () => {
    it('settles once the session goes live, and is undefined afterwards', async () => {
      const live = sut.whenLive();
      expect(live).toBeInstanceOf(Promise);
      expect(sut.whenLive()).toBe(live);

      sut.goLive();

      await expect(live).resolves.toBeUndefined();
      expect(sut.whenLive()).toBeUndefined();
    });

    it('settles when the session closes before going live', async () => {
      const live = sut.whenLive();
      sut.markClosed();
      await expect(live).resolves.toBeUndefined();
      expect(sut.whenLive()).toBeUndefined();
    });
  });

  describe('goLive', () => {
    it('flushes held frames in order, dropping messages the history already had', () => {
      const frames = [notification('bob'), message(4), message(5), notification('carol'), message(6), message(7)].map((frame) =>
        deliver(sut, frame),
      );

      sut.goLive(upTo({ general: 5 }));

      expect(sut.isLive).toBe(true);
      expect(transport.written).toEqual([frames[0], frames[3], frames[4], frames[5]]);
      // the very Buffer instances, not copies
      expect(transport.written[1]).toBe(frames[3]);
      expect(transport.frames()).toEqual([notification('bob'), notification('carol'), message(6), message(7)]);
    });

    it('dedupes each room against its own history id, in delivery order', () => {
      deliver(sut, message(1, 'general'));
      deliver(sut, message(2, 'dev'));
      deliver(sut, message(3, 'general'));
      deliver(sut, message(4, 'dev'));
      deliver(sut, message(5, 'random'));
      deliver(sut, message(6, 'dev'));

      sut.goLive(upTo({ general: 3, dev: 4 }));

      // general up to 3 and dev up to 4 were in the histories; random had none, so nothing of it is dropped
      expect(transport.frames()).toEqual([message(5, 'random'), message(6, 'dev')]);
    });

    it('never drops frames that have no room or no id', () => {
      deliver(sut, notification('bob'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      sut.deliver(encodeFrame(message(2)), 2, undefined); // an id but no room: not a room message to dedupe
      sut.goLive(upTo({ general: 1000 }));
      expect(transport.frames()).toEqual([notification('bob'), nickUpdate, direct, message(2)]);
    });

    it('flushes everything when the history was empty', () => {
      deliver(sut, message(1));
      deliver(sut, notification('bob'));
      sut.goLive(upTo({ general: 0 }));
      expect(transport.frames()).toEqual([message(1), notification('bob')]);
    });

    it('flushes everything when given no history ids', () => {
      deliver(sut, message(1));
      deliver(sut, message(2, 'dev'));
      sut.goLive();
      expect(transport.frames()).toEqual([message(1), message(2, 'dev')]);
    });

    it('delivers at once afterwards', () => {
      sut.goLive(upTo({ general: 0 }));
      deliver(sut, message(3));
      deliver(sut, nickUpdate);
      expect(transport.frames()).toEqual([message(3), nickUpdate]);
    });

    it('sends held frames only once if called twice', () => {
      deliver(sut, message(9));
      sut.goLive(upTo());
      sut.goLive(upTo());
      expect(transport.written).toHaveLength(1);
    });
  });

  describe('room holds', () => {
    beforeEach(() => {
      sut.goLive();
    });

    it('reports a room as joining from holdRoom until releaseRoom', () => {
      sut.holdRoom('dev');
      expect(sut.isJoining('dev')).toBe(true);
      expect(sut.isHeld('dev')).toBe(true);
      expect(sut.isJoining('general')).toBe(false);

      sut.releaseRoom('dev', 0);

      expect(sut.isJoining('dev')).toBe(false);
      expect(sut.isHeld('dev')).toBe(false);
    });

    it('reports an announced hold (a resume of a room already joined) as held, not joining', () => {
      sut.holdRoom('dev', true);

      expect(sut.isHeld('dev')).toBe(true);
      expect(sut.isJoining('dev')).toBe(false);
    });

    it("holds only the held room's frames; other rooms' and room-less frames flow", () => {
      sut.holdRoom('dev');

      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'general'));
      deliver(sut, notification('carol', 'dev'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      deliver(sut, notification('dave', 'general'));

      expect(transport.frames()).toEqual([message(2, 'general'), nickUpdate, direct, notification('dave', 'general')]);
    });

    it('lets send() and write() through ahead of the held frames', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.send({ type: 'history', room: 'dev', messages: [], hasMore: false });
      sut.write(encodeFrame(notification('Guest1', 'dev')));

      expect(transport.frames()).toEqual([{ type: 'history', room: 'dev', messages: [], hasMore: false }, notification('Guest1', 'dev')]);
    });

    it('releaseRoom drops messages up to the history id and flushes newer ones and notifications, in order', () => {
      sut.holdRoom('dev');
      const frames = [
        notification('bob', 'dev'),
        message(3, 'dev'),
        message(4, 'dev'),
        notification('carol', 'dev'),
        message(5, 'dev'),
        message(6, 'dev'),
      ].map((frame) => deliver(sut, frame));

      sut.releaseRoom('dev', 4);

      expect(transport.frames()).toEqual([notification('bob', 'dev'), notification('carol', 'dev'), message(5, 'dev'), message(6, 'dev')]);
      expect(transport.written[2]).toBe(frames[4]);
    });

    it('releaseRoom with history id 0 flushes everything held', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'dev'));
      sut.releaseRoom('dev', 0);
      expect(transport.frames()).toEqual([message(1, 'dev'), message(2, 'dev')]);
    });

    it('releaseRoom with discard drops everything held', () => {
      sut.holdRoom('dev');
      deliver(sut, message(7, 'dev'));
      deliver(sut, notification('bob', 'dev'));

      sut.releaseRoom('dev', 0, true);

      expect(transport.written).toEqual([]);
      expect(sut.isJoining('dev')).toBe(false);
    });

    it("delivers the room's frames at once after release", () => {
      sut.holdRoom('dev');
      sut.releaseRoom('dev', 10);
      deliver(sut, message(11, 'dev'));
      expect(transport.frames()).toEqual([message(11, 'dev')]);
    });

    it('drops a message the snapshot had that arrives after release (a late delivery through Redis), until a newer one', () => {
      sut.holdRoom('dev');
      sut.releaseRoom('dev', 10);
      deliver(sut, message(9, 'dev'));
      deliver(sut, message(10, 'dev'));
      deliver(sut, notification('bob', 'dev'));
      deliver(sut, message(11, 'dev'));
      deliver(sut, message(5, 'dev')); // the check ended with 11: ids come in order from here
      expect(transport.frames()).toEqual([notification('bob', 'dev'), message(11, 'dev'), message(5, 'dev')]);
    });

    it('keeps holds of several rooms apart', () => {
      sut.holdRoom('dev');
      sut.holdRoom('ops');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'ops'));
      deliver(sut, message(3, 'dev'));

      sut.releaseRoom('dev', 1);

      expect(transport.frames()).toEqual([message(3, 'dev')]);
      expect(sut.isJoining('ops')).toBe(true);

      sut.releaseRoom('ops', 0);

      expect(transport.frames()).toEqual([message(3, 'dev'), message(2, 'ops')]);
    });

    it('releaseRoom of a room that is not held does nothing', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.releaseRoom('ops', 0);
      sut.releaseRoom('ops', 0, true);

      expect(transport.written).toEqual([]);
      expect(sut.isJoining('dev')).toBe(true);
    });

    it('releaseRoom sends held frames only once if called twice', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      sut.releaseRoom('dev', 0);
      sut.releaseRoom('dev', 0);
      expect(transport.written).toHaveLength(1);
    });
  });

  describe('a room hold during the connect-time hold', () => {
    it('does not stop goLive from flushing frames of other rooms', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'general'));
      deliver(sut, nickUpdate);

      sut.goLive(upTo({ general: 0 }));

      expect(transport.frames()).toEqual([message(1, 'general'), nickUpdate]);
    });

    // A room hold wins over the connect-time hold, so releaseRoom dedupes the room against its own history.
    it("does not deliver again the messages the joined room's history already had", () => {
      sut.holdRoom('dev');
      deliver(sut, message(3, 'dev'));
      deliver(sut, message(4, 'dev'));
      deliver(sut, notification('carol', 'dev'));

      sut.releaseRoom('dev', 3); // the join's history page ended at 3
      sut.goLive(upTo({ general: 0 }));

      expect(transport.frames()).toEqual([message(4, 'dev'), notification('carol', 'dev')]);
    });
  });

  describe('typing throttle state', () => {
    it('forgets one room at a time', () => {
      sut.typingAt.set('general', 1000);
      sut.typingAt.set('dev', 2000);

      sut.forgetTyping('dev');
      sut.forgetTyping('nowhere');

      expect([...sut.typingAt]).toEqual([['general', 1000]]);
    });
  });

  describe('frame counter', () => {
    it('counts the frames actually written to the transport', () => {
      deliver(sut, message(1));
      deliver(sut, message(2));
      sut.goLive(upTo({ general: 1 })); // message 1 was in the history: dropped, not counted
      sut.send(notification('x'));
      transport.isOpen = false;
      sut.send(notification('y'));

      expect(counter.count).toBe(2);
      expect(transport.written).toHaveLength(2);
    });

    it('does not count frames a room release drops', () => {
      sut.goLive();
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'dev'));
      sut.releaseRoom('dev', 1);

      expect(counter.count).toBe(1);
    });
  });

  describe('markClosed', () => {
    it('marks the session closed and drops what it held', () => {
      deliver(sut, message(1));
      transport.isOpen = false;

      sut.markClosed();
      sut.goLive(upTo());

      expect(sut.isClosed).toBe(true);
      expect(transport.written).toEqual([]);
    });

    it('drops room holds too', () => {
      sut.goLive();
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.markClosed();
      sut.releaseRoom('dev', 0);

      expect(sut.isJoining('dev')).toBe(false);
      expect(sut.isHeld('dev')).toBe(false);
      expect(transport.written).toEqual([]);
    });
  });

  describe('close', () => {
    it('closes the transport with the code, reason and grace period', async () => {
      await expect(sut.close(1001, 'Server shutting down', 3000)).resolves.toBeUndefined();
      expect(transport.closes).toEqual([{ code: 1001, reason: 'Server shutting down', graceMs: 3000 }]);
    });
  });

  describe('write', () => {
    /** Lets the current turn of the event loop end, as it does between two batches of frames. */
    const nextTurn = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

    beforeEach(() => {
      // Date only: the turns end on process.nextTick, which must stay real.
      jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate'] });
    });

    it('sends nothing to a transport that is not open, and cuts nothing off', () => {
      transport.isOpen = false;
      sut.send(notification('x'));
      expect(sut.write(encodeFrame(notification('y')))).toBe(false);
      sut.goLive(upTo());
      deliver(sut, message(1));
      expect(transport.written).toEqual([]);
      expect(transport.terminated).toBe(0);
    });

    it('sends when exactly SLOW_CONSUMER_BYTES are unread', () => {
      transport.bufferedBytes = SLOW_CONSUMER_BYTES;
      expect(sut.write(encodeFrame(message(1)))).toBe(true);
      expect(transport.written).toHaveLength(1);
      expect(transport.terminated).toBe(0);
    });

    it(`keeps writing to a client over SLOW_CONSUMER_BYTES for SLOW_CONSUMER_GRACE_MS (${SLOW_CONSUMER_GRACE_MS} ms), then cuts it off`, async () => {
      transport.bufferedBytes = SLOW_CONSUMER_BYTES + 1;

      expect(sut.write(encodeFrame(message(1)))).toBe(true);
      await nextTurn();
      jest.setSystemTime(1_000_000 + SLOW_CONSUMER_GRACE_MS);
      expect(sut.write(encodeFrame(message(2)))).toBe(true);
      expect(transport.terminated).toBe(0);

      await nextTurn();
      jest.setSystemTime(1_000_000 + SLOW_CONSUMER_GRACE_MS + 1);
      expect(sut.write(encodeFrame(message(3)))).toBe(false);

      expect(transport.terminated).toBe(1);
      expect(transport.frames()).toEqual([message(1), message(2)]);
    });

    it('starts the grace period afresh once the client has caught up', async () => {
      transport.bufferedBytes = SLOW_CONSUMER_BYTES + 1;
      sut.write(encodeFrame(message(1)));
      await nextTurn();
      jest.setSystemTime(1_000_000 + SLOW_CONSUMER_GRACE_MS);
      transport.read();
      sut.write(encodeFrame(message(2)));

      await nextTurn();
      transport.bufferedBytes = SLOW_CONSUMER_BYTES + 1;
      jest.setSystemTime(1_000_000 + SLOW_CONSUMER_GRACE_MS + 1);
      sut.write(encodeFrame(message(3)));
      await nextTurn();
      jest.setSystemTime(1_000_000 + 2 * SLOW_CONSUMER_GRACE_MS);
      sut.write(encodeFrame(message(4)));

      expect(transport.terminated).toBe(0);
      expect(transport.written).toHaveLength(4);
    });

    it('cuts off at once a client with more than SLOW_CONSUMER_HARD_BYTES unread', () => {
      transport.bufferedBytes = SLOW_CONSUMER_HARD_BYTES + 1;

      expect(sut.write(encodeFrame(message(1)))).toBe(false);

      expect(transport.terminated).toBe(1);
      expect(transport.written).toEqual([]);
    });

    // Issue 10, defect 1: what the server queues in one turn is not what a client failed to read.
    describe('counts only what the client has had time to read', () => {
      const chunk = Buffer.alloc(1024 * 1024, 'x');

      beforeEach(() => {
        transport = new FakeTransport(true); // what is written stays queued until the client reads
        sut = new Session(9, transport, 'Guest3', '10.0.0.3', counter);
      });

      it('does not cut off a client for a burst written in one turn, however large', () => {
        for (let i = 0; i < 40; i++) expect(sut.write(chunk)).toBe(true);

        expect(transport.bufferedBytes).toBeGreaterThan(SLOW_CONSUMER_HARD_BYTES);
        expect(transport.terminated).toBe(0);
      });

      it('does not cut off a client that read the burst before the next turn wrote', async () => {
        for (let i = 0; i < 40; i++) sut.write(chunk);
        await nextTurn();
        transport.read();

        expect(sut.write(chunk)).toBe(true);
        expect(transport.terminated).toBe(0);
      });

      it('cuts off at the next turn a client that left more than SLOW_CONSUMER_HARD_BYTES of it unread', async () => {
        for (let i = 0; i < 40; i++) sut.write(chunk);
        await nextTurn();
        transport.read(4 * chunk.length);

        expect(sut.write(chunk)).toBe(false);
        expect(transport.terminated).toBe(1);
      });

      it('gives a client that left more than SLOW_CONSUMER_BYTES of it unread the grace period', async () => {
        for (let i = 0; i < 9; i++) sut.write(chunk);
        await nextTurn();
        expect(sut.write(chunk)).toBe(true);
        await nextTurn();
        jest.setSystemTime(1_000_000 + SLOW_CONSUMER_GRACE_MS + 1);

        expect(sut.write(chunk)).toBe(false);
        expect(transport.terminated).toBe(1);
      });
    });

    it('cuts off a slow consumer once while flushing held frames', () => {
      deliver(sut, message(1));
      deliver(sut, message(2));
      transport.bufferedBytes = SLOW_CONSUMER_HARD_BYTES + 1;

      sut.goLive(upTo());

      expect(transport.terminated).toBe(1);
      expect(transport.written).toEqual([]);
    });

    it('cuts off a slow consumer once while releasing a room', () => {
      sut.goLive();
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'dev'));
      transport.bufferedBytes = SLOW_CONSUMER_HARD_BYTES + 1;

      sut.releaseRoom('dev', 0);

      expect(transport.terminated).toBe(1);
      expect(transport.written).toEqual([]);
    });

    it('is 8 MiB, with a 2 s grace period and a hard limit of 32 MiB', () => {
      expect(SLOW_CONSUMER_BYTES).toBe(8 * 1024 * 1024);
      expect(SLOW_CONSUMER_GRACE_MS).toBe(2000);
      expect(SLOW_CONSUMER_HARD_BYTES).toBe(32 * 1024 * 1024);
    });
  });

  describe('sendPaced', () => {
    const big = (id: number): MessageFrame => ({ ...message(id), message: 'x'.repeat(400 * 1024) });
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    beforeEach(() => {
      transport = new FakeTransport(true); // what is written stays queued until the client reads
      sut = new Session(8, transport, 'Guest2', '10.0.0.2', counter);
    });

    it('sends every frame in order at once while little is queued', async () => {
      await expect(sut.sendPaced([message(1), message(2), message(3)])).resolves.toBeUndefined();
      expect(transport.frames()).toEqual([message(1), message(2), message(3)]);
    });

    it(`waits for the client to read once more than PACED_HIGH_WATER (${PACED_HIGH_WATER}) is queued, then goes on`, async () => {
      const frames = [1, 2, 3, 4, 5, 6].map(big);
      let done = false;

      const sending = sut.sendPaced(frames).then(() => (done = true));
      await settle();

      // 3 × 400 KiB is past the megabyte: it waits after the third
      expect(transport.written).toHaveLength(3);
      expect(transport.waiting).toBe(1);
      expect(done).toBe(false);

      transport.read(transport.bufferedBytes - PACED_LOW_WATER - 1);
      await settle();
      expect(transport.written).toHaveLength(3); // not yet down to PACED_LOW_WATER

      transport.read(1);
      await settle();
      expect(transport.written).toHaveLength(5); // 256 KiB + 2 × 400 KiB is past the megabyte again

      transport.read();
      await settle();
      expect(transport.written).toHaveLength(6);
      await sending;
      expect(transport.frames().map((f) => (f as MessageFrame).id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(transport.terminated).toBe(0);
    });

    it('never has much more than PACED_HIGH_WATER queued, however long the replay', async () => {
      let peak = 0;
      const write = transport.write.bind(transport);
      transport.write = (data: Buffer) => {
        peak = Math.max(peak, transport.bufferedBytes);
        write(data);
      };
      const reader = setInterval(() => transport.read(), 1);

      await sut.sendPaced(Array.from({ length: 60 }, (_, i) => big(i)));
      clearInterval(reader);

      expect(transport.written).toHaveLength(60);
      expect(peak).toBeLessThanOrEqual(PACED_HIGH_WATER);
    });

    describe('with a client that stops reading', () => {
      beforeEach(() => {
        jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
      });

      it(`cuts it off once it has read nothing for SLOW_CONSUMER_GRACE_MS (${SLOW_CONSUMER_GRACE_MS} ms)`, async () => {
        const sending = sut.sendPaced([1, 2, 3, 4, 5, 6].map(big));
        await settle();

        await jest.advanceTimersByTimeAsync(SLOW_CONSUMER_GRACE_MS - 1);
        expect(transport.terminated).toBe(0);
        await jest.advanceTimersByTimeAsync(1);

        await expect(sending).resolves.toBeUndefined();
        expect(transport.terminated).toBe(1);
        expect(transport.written).toHaveLength(3);
      });

      it('keeps waiting for one that reads slowly, as long as it reads something in every grace period', async () => {
        const sending = sut.sendPaced([1, 2, 3, 4, 5, 6].map(big));
        await settle();

        for (let i = 0; i < 5; i++) {
          transport.read(1024);
          await jest.advanceTimersByTimeAsync(SLOW_CONSUMER_GRACE_MS);
        }
        expect(transport.terminated).toBe(0);
        expect(transport.written).toHaveLength(3);

        transport.read();
        await settle();
        transport.read();
        await sending;
        expect(transport.written).toHaveLength(6);
        expect(transport.terminated).toBe(0);
      });

      it('counts what other frames add meanwhile: reading those too is reading', async () => {
        const sending = sut.sendPaced([1, 2, 3, 4, 5, 6].map(big));
        await settle();

        sut.send(message(100)); // a live frame of another room
        transport.read(200);
        await jest.advanceTimersByTimeAsync(SLOW_CONSUMER_GRACE_MS);
        expect(transport.terminated).toBe(0);

        sut.send(message(101));
        await jest.advanceTimersByTimeAsync(SLOW_CONSUMER_GRACE_MS);
        expect(transport.terminated).toBe(1);
        await sending;
      });
    });

    it('stops when the connection goes while it waits', async () => {
      const sending = sut.sendPaced([1, 2, 3, 4, 5, 6].map(big));
      await settle();

      transport.terminate();

      await expect(sending).resolves.toBeUndefined();
      expect(transport.written).toHaveLength(3);
    });

    it('sends nothing to a closed session', async () => {
      sut.markClosed();
      await sut.sendPaced([message(1)]);
      expect(transport.written).toEqual([]);
    });
  });
});

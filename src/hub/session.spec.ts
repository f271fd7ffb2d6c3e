import type { WebSocket } from 'ws';
import {
  encodeFrame,
  type DirectFrame,
  type MessageFrame,
  type NickUpdateFrame,
  type NotificationFrame,
  type WelcomeFrame,
} from '../chat/protocol';
import { Session, SLOW_CONSUMER_BYTES } from './session';
import { fakeSocket, type FakeSocket } from '../../test/support/fakes';

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
  room: 'general',
  rooms: ['general'],
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

/** Delivers the way FanoutService does: room frames with their room (and id for messages), others with neither. */
function deliver(session: Session, frame: MessageFrame | NotificationFrame | NickUpdateFrame | DirectFrame): Buffer {
  const data = encodeFrame(frame);
  if (frame.type === 'message') session.deliver(data, frame.id, frame.room);
  else if (frame.type === 'notification') session.deliver(data, 0, frame.room);
  else session.deliver(data);
  return data;
}

/** The frames a fake socket was sent, decoded. */
function sent(socket: FakeSocket): unknown[] {
  return socket.send.mock.calls.map(([data]: [Buffer]) => JSON.parse(data.toString('utf8')) as unknown);
}

describe(Session.name, () => {
  let socket: FakeSocket;
  let sut: Session;

  beforeEach(() => {
    socket = fakeSocket();
    sut = new Session(socket as unknown as WebSocket, 'Guest1', '10.0.0.1');
  });

  it('starts held, not live, not closed, in no room, with its nickname and address', () => {
    expect(sut.isLive).toBe(false);
    expect(sut.isClosed).toBe(false);
    expect(sut.nickname).toBe('Guest1');
    expect(sut.remoteAddress).toBe('10.0.0.1');
    expect(sut.connectedAt).toBeLessThanOrEqual(Date.now());
    expect([...sut.rooms]).toEqual([]);
    expect([...sut.typingAt]).toEqual([]);
    expect(sut.isJoining('general')).toBe(false);
  });

  describe('before goLive', () => {
    it('holds delivered frames, with or without a room', () => {
      deliver(sut, message(1));
      deliver(sut, notification('bob'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('sends send() frames at once, as text, ahead of held ones', () => {
      deliver(sut, notification('bob'));
      sut.send(welcome);

      expect(socket.send).toHaveBeenCalledTimes(1);
      expect(socket.send).toHaveBeenCalledWith(expect.any(Buffer), { binary: false });
      expect(sent(socket)).toEqual([welcome]);
    });

    it('writes write() data at once', () => {
      const data = encodeFrame(notification('Guest1'));
      sut.write(data);
      expect(socket.send).toHaveBeenCalledWith(data, { binary: false });
    });
  });

  describe('goLive', () => {
    it('flushes held frames in order, dropping messages the history already had', () => {
      const frames = [notification('bob'), message(4), message(5), notification('carol'), message(6), message(7)].map((frame) =>
        deliver(sut, frame),
      );

      sut.goLive(upTo({ general: 5 }));

      expect(sut.isLive).toBe(true);
      expect(socket.send.mock.calls.map(([data]: [Buffer]) => data)).toEqual([frames[0], frames[3], frames[4], frames[5]]);
      // the very Buffer instances, not copies
      expect(socket.send.mock.calls[1][0]).toBe(frames[3]);
      expect(sent(socket)).toEqual([notification('bob'), notification('carol'), message(6), message(7)]);
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
      expect(sent(socket)).toEqual([message(5, 'random'), message(6, 'dev')]);
    });

    it('never drops frames that have no room or no id', () => {
      deliver(sut, notification('bob'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      sut.deliver(encodeFrame(message(2)), 2); // an id but no room: not a room message to dedupe
      sut.goLive(upTo({ general: 1000 }));
      expect(sent(socket)).toEqual([notification('bob'), nickUpdate, direct, message(2)]);
    });

    it('flushes everything when the history was empty', () => {
      deliver(sut, message(1));
      deliver(sut, notification('bob'));
      sut.goLive(upTo({ general: 0 }));
      expect(sent(socket)).toEqual([message(1), notification('bob')]);
    });

    it('flushes everything when given no history ids', () => {
      deliver(sut, message(1));
      deliver(sut, message(2, 'dev'));
      sut.goLive();
      expect(sent(socket)).toEqual([message(1), message(2, 'dev')]);
    });

    it('delivers at once afterwards', () => {
      sut.goLive(upTo({ general: 0 }));
      deliver(sut, message(3));
      deliver(sut, nickUpdate);
      expect(sent(socket)).toEqual([message(3), nickUpdate]);
    });

    it('sends held frames only once if called twice', () => {
      deliver(sut, message(9));
      sut.goLive(upTo());
      sut.goLive(upTo());
      expect(socket.send).toHaveBeenCalledTimes(1);
    });
  });

  describe('room holds', () => {
    beforeEach(() => {
      sut.goLive();
    });

    it('reports a room as joining from holdRoom until releaseRoom', () => {
      sut.holdRoom('dev');
      expect(sut.isJoining('dev')).toBe(true);
      expect(sut.isJoining('general')).toBe(false);

      sut.releaseRoom('dev', 0);

      expect(sut.isJoining('dev')).toBe(false);
    });

    it("holds only the joining room's frames; other rooms' and room-less frames flow", () => {
      sut.holdRoom('dev');

      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'general'));
      deliver(sut, notification('carol', 'dev'));
      deliver(sut, nickUpdate);
      deliver(sut, direct);
      deliver(sut, notification('dave', 'general'));

      expect(sent(socket)).toEqual([message(2, 'general'), nickUpdate, direct, notification('dave', 'general')]);
    });

    it('lets send() and write() through ahead of the held frames', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.send({ type: 'history', room: 'dev', messages: [], hasMore: false });
      sut.write(encodeFrame(notification('Guest1', 'dev')));

      expect(sent(socket)).toEqual([{ type: 'history', room: 'dev', messages: [], hasMore: false }, notification('Guest1', 'dev')]);
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

      expect(sent(socket)).toEqual([notification('bob', 'dev'), notification('carol', 'dev'), message(5, 'dev'), message(6, 'dev')]);
      expect(socket.send.mock.calls[2][0]).toBe(frames[4]);
    });

    it('releaseRoom with history id 0 flushes everything held', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'dev'));
      sut.releaseRoom('dev', 0);
      expect(sent(socket)).toEqual([message(1, 'dev'), message(2, 'dev')]);
    });

    it('releaseRoom with discard drops everything held', () => {
      sut.holdRoom('dev');
      deliver(sut, message(7, 'dev'));
      deliver(sut, notification('bob', 'dev'));

      sut.releaseRoom('dev', 0, true);

      expect(socket.send).not.toHaveBeenCalled();
      expect(sut.isJoining('dev')).toBe(false);
    });

    it("delivers the room's frames at once after release", () => {
      sut.holdRoom('dev');
      sut.releaseRoom('dev', 10);
      deliver(sut, message(3, 'dev'));
      expect(sent(socket)).toEqual([message(3, 'dev')]);
    });

    it('keeps holds of several rooms apart', () => {
      sut.holdRoom('dev');
      sut.holdRoom('ops');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'ops'));
      deliver(sut, message(3, 'dev'));

      sut.releaseRoom('dev', 1);

      expect(sent(socket)).toEqual([message(3, 'dev')]);
      expect(sut.isJoining('ops')).toBe(true);

      sut.releaseRoom('ops', 0);

      expect(sent(socket)).toEqual([message(3, 'dev'), message(2, 'ops')]);
    });

    it('releaseRoom of a room that is not held does nothing', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.releaseRoom('ops', 0);
      sut.releaseRoom('ops', 0, true);

      expect(socket.send).not.toHaveBeenCalled();
      expect(sut.isJoining('dev')).toBe(true);
    });

    it('releaseRoom sends held frames only once if called twice', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      sut.releaseRoom('dev', 0);
      sut.releaseRoom('dev', 0);
      expect(socket.send).toHaveBeenCalledTimes(1);
    });
  });

  describe('a room hold during the connect-time hold', () => {
    it('does not stop goLive from flushing frames of other rooms', () => {
      sut.holdRoom('dev');
      deliver(sut, message(1, 'general'));
      deliver(sut, nickUpdate);

      sut.goLive(upTo({ general: 0 }));

      expect(sent(socket)).toEqual([message(1, 'general'), nickUpdate]);
    });

    // A room hold wins over the connect-time hold, so releaseRoom dedupes the room against its own history.
    it("does not deliver again the messages the joined room's history already had", () => {
      sut.holdRoom('dev');
      deliver(sut, message(3, 'dev'));
      deliver(sut, message(4, 'dev'));
      deliver(sut, notification('carol', 'dev'));

      sut.releaseRoom('dev', 3); // the join's history page ended at 3
      sut.goLive(upTo({ general: 0 }));

      expect(sent(socket)).toEqual([message(4, 'dev'), notification('carol', 'dev')]);
    });
  });

  describe('delivery stats', () => {
    it('counts the frames actually written to the socket', () => {
      const stats = { frames: 0 };
      const counted = new Session(socket as unknown as WebSocket, 'Guest2', '10.0.0.2', stats);
      deliver(counted, message(1));
      deliver(counted, message(2));
      counted.goLive(upTo({ general: 1 })); // message 1 was in the history: dropped, not counted
      counted.send(notification('x'));
      socket.readyState = 3;
      counted.send(notification('y'));

      expect(stats.frames).toBe(2);
      expect(socket.send).toHaveBeenCalledTimes(2);
    });

    it('does not count frames a room release drops', () => {
      const stats = { frames: 0 };
      const counted = new Session(socket as unknown as WebSocket, 'Guest2', '10.0.0.2', stats);
      counted.goLive();
      counted.holdRoom('dev');
      deliver(counted, message(1, 'dev'));
      deliver(counted, message(2, 'dev'));
      counted.releaseRoom('dev', 1);

      expect(stats.frames).toBe(1);
    });
  });

  describe('markClosed', () => {
    it('marks the session closed and drops what it held', () => {
      deliver(sut, message(1));
      socket.readyState = 3;

      sut.markClosed();
      sut.goLive(upTo());

      expect(sut.isClosed).toBe(true);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('drops room holds too', () => {
      sut.goLive();
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));

      sut.markClosed();
      sut.releaseRoom('dev', 0);

      expect(sut.isJoining('dev')).toBe(false);
      expect(socket.send).not.toHaveBeenCalled();
    });
  });

  describe('write', () => {
    it.each([
      ['CONNECTING', 0],
      ['CLOSING', 2],
      ['CLOSED', 3],
    ])('sends nothing to a %s socket', (_label, readyState) => {
      socket.readyState = readyState;
      sut.send(notification('x'));
      sut.write(encodeFrame(notification('y')));
      sut.goLive(upTo());
      deliver(sut, message(1));
      expect(socket.send).not.toHaveBeenCalled();
      expect(socket.terminate).not.toHaveBeenCalled();
    });

    it('sends when exactly SLOW_CONSUMER_BYTES are queued', () => {
      socket.bufferedAmount = SLOW_CONSUMER_BYTES;
      sut.write(encodeFrame(message(1)));
      expect(socket.send).toHaveBeenCalledTimes(1);
      expect(socket.terminate).not.toHaveBeenCalled();
    });

    it('terminates a slow consumer instead of queueing more', () => {
      socket.bufferedAmount = SLOW_CONSUMER_BYTES + 1;
      sut.write(encodeFrame(message(1)));
      expect(socket.terminate).toHaveBeenCalledTimes(1);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('terminates a slow consumer once while flushing held frames', () => {
      deliver(sut, message(1));
      deliver(sut, message(2));
      socket.bufferedAmount = SLOW_CONSUMER_BYTES + 1;

      sut.goLive(upTo());

      expect(socket.terminate).toHaveBeenCalledTimes(1);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('terminates a slow consumer once while releasing a room', () => {
      sut.goLive();
      sut.holdRoom('dev');
      deliver(sut, message(1, 'dev'));
      deliver(sut, message(2, 'dev'));
      socket.bufferedAmount = SLOW_CONSUMER_BYTES + 1;

      sut.releaseRoom('dev', 0);

      expect(socket.terminate).toHaveBeenCalledTimes(1);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('is 8 MiB', () => {
      expect(SLOW_CONSUMER_BYTES).toBe(8 * 1024 * 1024);
    });
  });
});

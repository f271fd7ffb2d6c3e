import type { WebSocket } from 'ws';
import { encodeFrame, type MessageFrame, type NotificationFrame } from '../chat/protocol';
import { Session, SLOW_CONSUMER_BYTES } from './session';

interface FakeSocket {
  readyState: number;
  bufferedAmount: number;
  send: jest.Mock;
  terminate: jest.Mock;
}

function fakeSocket(readyState = 1): FakeSocket {
  const socket: FakeSocket = {
    readyState,
    bufferedAmount: 0,
    send: jest.fn(),
    // like ws: terminate() moves the socket out of OPEN at once
    terminate: jest.fn(() => {
      socket.readyState = 2;
    }),
  };
  return socket;
}

const message = (id: number): MessageFrame => ({
  type: 'message',
  id,
  room: 'general',
  nickname: 'alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
});

const notification = (nickname: string): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room: 'general',
  nickname,
  message: `${nickname} joined`,
});

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

  it('starts held, not live, not closed, with its nickname and address', () => {
    expect(sut.isLive).toBe(false);
    expect(sut.isClosed).toBe(false);
    expect(sut.nickname).toBe('Guest1');
    expect(sut.remoteAddress).toBe('10.0.0.1');
    expect(sut.connectedAt).toBeInstanceOf(Date);
  });

  describe('before goLive', () => {
    it('holds delivered frames', () => {
      sut.deliver(encodeFrame(message(1)), 1);
      sut.deliver(encodeFrame(notification('bob')));
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('sends send() frames at once, as text, ahead of held ones', () => {
      sut.deliver(encodeFrame(notification('bob')));
      sut.send({ type: 'welcome', nickname: 'Guest1', message: 'Welcome, Guest1', users: ['Guest1'], room: 'general' });

      expect(socket.send).toHaveBeenCalledTimes(1);
      expect(socket.send).toHaveBeenCalledWith(expect.any(Buffer), { binary: false });
      expect(sent(socket)).toEqual([{ type: 'welcome', nickname: 'Guest1', message: 'Welcome, Guest1', users: ['Guest1'], room: 'general' }]);
    });

    it('writes write() data at once', () => {
      const data = encodeFrame(notification('Guest1'));
      sut.write(data);
      expect(socket.send).toHaveBeenCalledWith(data, { binary: false });
    });
  });

  describe('goLive', () => {
    it('flushes held frames in order, dropping messages the history already had', () => {
      const frames = [
        { data: encodeFrame(notification('bob')), id: 0 },
        { data: encodeFrame(message(4)), id: 4 },
        { data: encodeFrame(message(5)), id: 5 },
        { data: encodeFrame(notification('carol')), id: 0 },
        { data: encodeFrame(message(6)), id: 6 },
        { data: encodeFrame(message(7)), id: 7 },
      ];
      for (const { data, id } of frames) sut.deliver(data, id);

      sut.goLive(5);

      expect(sut.isLive).toBe(true);
      expect(socket.send.mock.calls.map(([data]: [Buffer]) => data)).toEqual([frames[0].data, frames[3].data, frames[4].data, frames[5].data]);
      // the very Buffer instances, not copies
      expect(socket.send.mock.calls[1][0]).toBe(frames[3].data);
      expect(sent(socket)).toEqual([notification('bob'), notification('carol'), message(6), message(7)]);
    });

    it('flushes everything when the history was empty', () => {
      sut.deliver(encodeFrame(message(1)), 1);
      sut.deliver(encodeFrame(notification('bob')));
      sut.goLive(0);
      expect(sent(socket)).toEqual([message(1), notification('bob')]);
    });

    it('treats deliver() without an id as a non-message frame that is never dropped', () => {
      sut.deliver(encodeFrame(notification('bob')));
      sut.goLive(1000);
      expect(sent(socket)).toEqual([notification('bob')]);
    });

    it('delivers at once afterwards', () => {
      sut.goLive(0);
      sut.deliver(encodeFrame(message(3)), 3);
      expect(sent(socket)).toEqual([message(3)]);
    });

    it('sends held frames only once if called twice', () => {
      sut.deliver(encodeFrame(message(9)), 9);
      sut.goLive(0);
      sut.goLive(0);
      expect(socket.send).toHaveBeenCalledTimes(1);
    });
  });

  describe('delivery stats', () => {
    it('counts the frames actually written to the socket', () => {
      const stats = { frames: 0 };
      const counted = new Session(socket as unknown as WebSocket, 'Guest2', '10.0.0.2', stats);
      counted.deliver(encodeFrame(message(1)), 1);
      counted.deliver(encodeFrame(message(2)), 2);
      counted.goLive(1); // message 1 was in the history: dropped, not counted
      counted.send(notification('x'));
      socket.readyState = 3;
      counted.send(notification('y'));

      expect(stats.frames).toBe(2);
      expect(socket.send).toHaveBeenCalledTimes(2);
    });
  });

  describe('markClosed', () => {
    it('marks the session closed and drops what it held', () => {
      sut.deliver(encodeFrame(message(1)), 1);
      socket.readyState = 3;

      sut.markClosed();
      sut.goLive(0);

      expect(sut.isClosed).toBe(true);
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
      sut.goLive(0);
      sut.deliver(encodeFrame(message(1)), 1);
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
      sut.deliver(encodeFrame(message(1)), 1);
      sut.deliver(encodeFrame(message(2)), 2);
      socket.bufferedAmount = SLOW_CONSUMER_BYTES + 1;

      sut.goLive(0);

      expect(socket.terminate).toHaveBeenCalledTimes(1);
      expect(socket.send).not.toHaveBeenCalled();
    });

    it('is 8 MiB', () => {
      expect(SLOW_CONSUMER_BYTES).toBe(8 * 1024 * 1024);
    });
  });
});

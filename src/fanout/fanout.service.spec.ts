import type { WebSocket } from 'ws';
import type { MessageFrame, NickUpdateFrame } from '../chat/protocol';
import { FanoutService } from './fanout.service';
import { Session } from './session';

interface FakeSocket {
  readyState: number;
  bufferedAmount: number;
  send: jest.Mock;
  terminate: jest.Mock;
}

function fakeSocket(): FakeSocket {
  return { readyState: 1, bufferedAmount: 0, send: jest.fn(), terminate: jest.fn() };
}

function liveSession(nickname: string): { session: Session; socket: FakeSocket } {
  const socket = fakeSocket();
  const session = new Session(socket as unknown as WebSocket, nickname, '127.0.0.1');
  session.goLive(0);
  return { session, socket };
}

const message = (id: number): MessageFrame => ({
  type: 'message',
  id,
  room: 'general',
  nickname: 'alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
  clientMsgId: `c${id}`,
});

const nickUpdate: NickUpdateFrame = {
  type: 'nick_update',
  nickname: 'alice',
  previous: 'Guest1',
  message: 'Guest1 is now known as alice',
};

describe(FanoutService.name, () => {
  let sut: FanoutService;

  beforeEach(() => {
    sut = new FanoutService();
  });

  it('tracks sessions', () => {
    const a = liveSession('a').session;
    const b = liveSession('b').session;
    sut.add(a);
    sut.add(b);
    sut.add(a);
    expect(sut.size).toBe(2);
    expect([...sut.all()]).toEqual([a, b]);

    sut.remove(a);
    expect(sut.size).toBe(1);
    expect([...sut.all()]).toEqual([b]);
  });

  it('encodes a broadcast once: every socket gets the same Buffer, which is returned', () => {
    const clients = ['a', 'b', 'c'].map(liveSession);
    for (const { session } of clients) sut.add(session);

    const data = sut.broadcast(message(1));

    expect(data).toBeInstanceOf(Buffer);
    expect(JSON.parse(data.toString('utf8'))).toStrictEqual(message(1));
    for (const { socket } of clients) {
      expect(socket.send).toHaveBeenCalledTimes(1);
      expect(socket.send.mock.calls[0][0]).toBe(data);
      expect(socket.send.mock.calls[0][1]).toEqual({ binary: false });
    }
  });

  it('skips the excepted session', () => {
    const a = liveSession('a');
    const b = liveSession('b');
    sut.add(a.session);
    sut.add(b.session);

    sut.broadcast(nickUpdate, a.session);

    expect(a.socket.send).not.toHaveBeenCalled();
    expect(b.socket.send).toHaveBeenCalledTimes(1);
  });

  it('does not deliver to removed sessions', () => {
    const a = liveSession('a');
    sut.add(a.session);
    sut.remove(a.session);
    sut.broadcast(nickUpdate);
    expect(a.socket.send).not.toHaveBeenCalled();
  });

  it('delivers in broadcast order', () => {
    const a = liveSession('a');
    sut.add(a.session);
    sut.broadcast(message(1));
    sut.broadcast(nickUpdate);
    sut.broadcast(message(2));
    expect(a.socket.send.mock.calls.map(([d]: [Buffer]) => JSON.parse(d.toString('utf8')) as unknown)).toEqual([
      message(1),
      nickUpdate,
      message(2),
    ]);
  });

  it('passes message ids along, so a joining session drops what its history already had', () => {
    const socket = fakeSocket();
    const joining = new Session(socket as unknown as WebSocket, 'Guest9', '127.0.0.1');
    sut.add(joining);

    sut.broadcast(message(3));
    sut.broadcast(nickUpdate);
    sut.broadcast(message(4));
    expect(socket.send).not.toHaveBeenCalled();

    joining.goLive(3);

    expect(socket.send.mock.calls.map(([d]: [Buffer]) => JSON.parse(d.toString('utf8')) as unknown)).toEqual([nickUpdate, message(4)]);
  });

  it('keeps delivering to the others when one socket is not open or is slow', () => {
    const closed = liveSession('closed');
    closed.socket.readyState = 3;
    const slow = liveSession('slow');
    slow.socket.bufferedAmount = 64 * 1024 * 1024;
    const ok = liveSession('ok');
    for (const c of [closed, slow, ok]) sut.add(c.session);

    sut.broadcast(message(1));

    expect(closed.socket.send).not.toHaveBeenCalled();
    expect(slow.socket.send).not.toHaveBeenCalled();
    expect(slow.socket.terminate).toHaveBeenCalledTimes(1);
    expect(ok.socket.send).toHaveBeenCalledTimes(1);
  });
});

import type { WebSocket } from 'ws';
import type { DirectFrame, MessageFrame, NickUpdateFrame, NotificationFrame, TypingFrame } from '../chat/protocol';
import { RoomMembersService } from '../users/room-members.service';
import { FanoutService } from './fanout.service';
import { Session } from './session';
import { fakeSocket, type FakeSocket } from '../../test/support/fakes';

interface Client {
  session: Session;
  socket: FakeSocket;
}

function connecting(nickname: string): Client {
  const socket = fakeSocket();
  return { session: new Session(socket as unknown as WebSocket, nickname, '127.0.0.1'), socket };
}

function live(nickname: string): Client {
  const client = connecting(nickname);
  client.session.goLive();
  return client;
}

/** The frames a fake socket was sent, decoded. */
function sent(socket: FakeSocket): unknown[] {
  return socket.send.mock.calls.map(([data]: [Buffer]) => JSON.parse(data.toString('utf8')) as unknown);
}

const message = (id: number, room = 'general'): MessageFrame => ({
  type: 'message',
  id,
  room,
  nickname: 'alice',
  message: `m${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
  clientMsgId: `c${id}`,
});

const joined = (nickname: string, room = 'general'): NotificationFrame => ({
  type: 'notification',
  event: 'join',
  room,
  nickname,
  message: `${nickname} joined`,
});

const typing = (room: string): TypingFrame => ({ type: 'typing', room, nickname: 'alice' });

const nickUpdate: NickUpdateFrame = {
  type: 'nick_update',
  nickname: 'alice',
  previous: 'Guest1',
  message: 'Guest1 is now known as alice',
};

const direct: DirectFrame = {
  type: 'direct',
  id: 1,
  from: 'alice',
  to: 'bob',
  message: 'psst',
  sentAt: '2026-11-21T23:44:19.123Z',
};

describe(FanoutService.name, () => {
  let members: RoomMembersService;
  let sut: FanoutService;

  beforeEach(() => {
    members = new RoomMembersService();
    sut = new FanoutService(members);
  });

  /** Adds each client to the fanout and to `rooms`. */
  function connect(clients: Client[], ...rooms: string[]): void {
    for (const { session } of clients) {
      sut.add(session);
      for (const room of rooms) members.join(session, room);
    }
  }

  describe('sessions', () => {
    it('tracks sessions', () => {
      const a = live('a').session;
      const b = live('b').session;
      sut.add(a);
      sut.add(b);
      sut.add(a);
      expect(sut.size).toBe(2);
      expect([...sut.all()]).toEqual([a, b]);

      sut.remove(a);
      expect(sut.size).toBe(1);
      expect([...sut.all()]).toEqual([b]);
    });

    it('finds the session of a socket until it is removed', () => {
      const a = live('a');
      sut.add(a.session);
      const socket = a.socket as unknown as WebSocket;

      expect(sut.find(socket)).toBe(a.session);
      expect(sut.sessionOf(socket)).toBe(a.session);

      sut.remove(a.session);

      expect(sut.find(socket)).toBeUndefined();
    });

    it('sessionOf throws for a socket with no session', () => {
      sut.add(live('a').session);
      const stranger = fakeSocket() as unknown as WebSocket;

      expect(sut.find(stranger)).toBeUndefined();
      expect(() => sut.sessionOf(stranger)).toThrow('frame from a socket with no session');
    });
  });

  describe('toAll', () => {
    it('reaches every connected session, whatever its rooms, with the same Buffer, which is returned', () => {
      const inGeneral = live('a');
      const inDev = live('b');
      const inNone = live('c');
      connect([inGeneral], 'general');
      connect([inDev], 'dev');
      connect([inNone]);

      const data = sut.toAll(nickUpdate);

      expect(data).toBeInstanceOf(Buffer);
      expect(JSON.parse(data.toString('utf8'))).toStrictEqual(nickUpdate);
      for (const { socket } of [inGeneral, inDev, inNone]) {
        expect(socket.send).toHaveBeenCalledTimes(1);
        expect(socket.send.mock.calls[0][0]).toBe(data);
        expect(socket.send.mock.calls[0][1]).toEqual({ binary: false });
      }
    });

    it('does not deliver to removed sessions', () => {
      const a = live('a');
      connect([a], 'general');
      sut.remove(a.session);
      sut.toAll(nickUpdate);
      expect(a.socket.send).not.toHaveBeenCalled();
    });

    it('is not held back by a room hold', () => {
      const a = live('a');
      connect([a], 'dev');
      a.session.holdRoom('dev');

      sut.toAll(nickUpdate);

      expect(sent(a.socket)).toEqual([nickUpdate]);
    });
  });

  describe('toRoom', () => {
    it('reaches only the members of the room', () => {
      const a = live('a');
      const b = live('b');
      const outsider = live('outsider');
      connect([a, b], 'dev');
      connect([outsider], 'general');

      sut.toRoom('dev', message(1, 'dev'));

      expect(sent(a.socket)).toEqual([message(1, 'dev')]);
      expect(sent(b.socket)).toEqual([message(1, 'dev')]);
      expect(outsider.socket.send).not.toHaveBeenCalled();
    });

    it('encodes once: every member gets the same Buffer, which is returned', () => {
      const clients = ['a', 'b', 'c'].map(live);
      connect(clients, 'general');

      const data = sut.toRoom('general', message(1));

      expect(data).toBeInstanceOf(Buffer);
      expect(JSON.parse(data.toString('utf8'))).toStrictEqual(message(1));
      for (const { socket } of clients) {
        expect(socket.send).toHaveBeenCalledTimes(1);
        expect(socket.send.mock.calls[0][0]).toBe(data);
        expect(socket.send.mock.calls[0][1]).toEqual({ binary: false });
      }
    });

    it('skips the excepted session', () => {
      const a = live('a');
      const b = live('b');
      connect([a, b], 'general');

      sut.toRoom('general', typing('general'), a.session);

      expect(a.socket.send).not.toHaveBeenCalled();
      expect(sent(b.socket)).toEqual([typing('general')]);
    });

    it('returns the encoded frame even when the room has no members', () => {
      const a = live('a');
      connect([a], 'general');

      const data = sut.toRoom('empty', joined('a', 'empty'));

      expect(JSON.parse(data.toString('utf8'))).toStrictEqual(joined('a', 'empty'));
      expect(a.socket.send).not.toHaveBeenCalled();
    });

    it('stops reaching a session once it left the room', () => {
      const a = live('a');
      connect([a], 'dev');
      members.leave(a.session, 'dev');

      sut.toRoom('dev', message(1, 'dev'));

      expect(a.socket.send).not.toHaveBeenCalled();
    });

    it('delivers in call order', () => {
      const a = live('a');
      connect([a], 'general');
      sut.toRoom('general', message(1));
      sut.toAll(nickUpdate);
      sut.toRoom('general', message(2));
      expect(sent(a.socket)).toEqual([message(1), nickUpdate, message(2)]);
    });

    it('passes message ids and the room along, so a connecting session drops what its history already had', () => {
      const joining = connecting('Guest9');
      connect([joining], 'general', 'dev');

      sut.toRoom('general', message(3));
      sut.toAll(nickUpdate);
      sut.toRoom('dev', message(4, 'dev'));
      sut.toRoom('general', message(5));
      expect(joining.socket.send).not.toHaveBeenCalled();

      joining.session.goLive(new Map([['general', 3], ['dev', 4]]));

      expect(sent(joining.socket)).toEqual([nickUpdate, message(5)]);
    });

    it("passes message ids and the room along, so a joining session holds that room's frames and dedupes them", () => {
      const a = live('a');
      connect([a], 'general', 'dev');
      a.session.holdRoom('dev');

      sut.toRoom('dev', message(3, 'dev'));
      sut.toRoom('general', message(4));
      sut.toRoom('dev', joined('b', 'dev'));
      sut.toRoom('dev', message(5, 'dev'));
      expect(sent(a.socket)).toEqual([message(4)]);

      a.session.releaseRoom('dev', 3);

      expect(sent(a.socket)).toEqual([message(4), joined('b', 'dev'), message(5, 'dev')]);
    });

    it('keeps delivering to the others when one socket is not open or is slow', () => {
      const closed = live('closed');
      closed.socket.readyState = 3;
      const slow = live('slow');
      slow.socket.bufferedAmount = 64 * 1024 * 1024;
      const ok = live('ok');
      connect([closed, slow, ok], 'general');

      sut.toRoom('general', message(1));

      expect(closed.socket.send).not.toHaveBeenCalled();
      expect(slow.socket.send).not.toHaveBeenCalled();
      expect(slow.socket.terminate).toHaveBeenCalledTimes(1);
      expect(ok.socket.send).toHaveBeenCalledTimes(1);
    });
  });

  describe('toSessions', () => {
    it('reaches only the listed sessions, each once, with the same Buffer', () => {
      const alice = live('alice');
      const bob = live('bob');
      const carol = live('carol');
      connect([alice, bob, carol], 'general');

      sut.toSessions([alice.session, bob.session, alice.session], direct);

      expect(sent(alice.socket)).toEqual([direct]);
      expect(sent(bob.socket)).toEqual([direct]);
      expect(alice.socket.send.mock.calls[0][0]).toBe(bob.socket.send.mock.calls[0][0]);
      expect(carol.socket.send).not.toHaveBeenCalled();
    });

    it('sends a message to oneself once', () => {
      const alice = live('alice');
      connect([alice], 'general');

      sut.toSessions([alice.session, alice.session], direct);

      expect(sent(alice.socket)).toEqual([direct]);
    });

    it('is not held back by a room hold, and is never deduplicated', () => {
      const alice = live('alice');
      const bob = connecting('bob');
      connect([alice, bob], 'dev');
      alice.session.holdRoom('dev');

      sut.toSessions([alice.session, bob.session], direct);
      bob.session.goLive(new Map([['dev', 1000], ['general', 1000]]));

      expect(sent(alice.socket)).toEqual([direct]);
      expect(sent(bob.socket)).toEqual([direct]);
    });
  });
});

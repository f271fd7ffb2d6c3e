import type { WebSocket } from 'ws';
import { Session } from '../fanout/session';
import { RoomMembersService } from './room-members.service';

function session(nickname: string): Session {
  const socket = { readyState: 1, bufferedAmount: 0, send: jest.fn(), terminate: jest.fn() } as unknown as WebSocket;
  return new Session(socket, nickname, '127.0.0.1');
}

describe(RoomMembersService.name, () => {
  let sut: RoomMembersService;
  let alice: Session;
  let bob: Session;

  beforeEach(() => {
    sut = new RoomMembersService();
    alice = session('alice');
    bob = session('bob');
  });

  describe('join', () => {
    it('adds the session to the room and the room to the session', () => {
      expect(sut.join(alice, 'general')).toBe(true);

      expect([...sut.members('general')]).toEqual([alice]);
      expect([...alice.rooms]).toEqual(['general']);
    });

    it('returns false and changes nothing when already a member', () => {
      sut.join(alice, 'general');
      sut.join(bob, 'general');

      expect(sut.join(alice, 'general')).toBe(false);

      expect([...sut.members('general')]).toEqual([alice, bob]);
      expect([...alice.rooms]).toEqual(['general']);
    });

    it('lets a session be in several rooms', () => {
      sut.join(alice, 'general');
      sut.join(alice, 'dev');

      expect([...alice.rooms]).toEqual(['general', 'dev']);
      expect([...sut.members('general')]).toEqual([alice]);
      expect([...sut.members('dev')]).toEqual([alice]);
    });
  });

  describe('leave', () => {
    it('removes the session from the room and the room from the session', () => {
      sut.join(alice, 'general');
      sut.join(alice, 'dev');
      sut.join(bob, 'dev');

      expect(sut.leave(alice, 'dev')).toBe(true);

      expect([...sut.members('dev')]).toEqual([bob]);
      expect([...alice.rooms]).toEqual(['general']);
    });

    it('returns false when not a member', () => {
      sut.join(bob, 'dev');

      expect(sut.leave(alice, 'dev')).toBe(false);
      expect(sut.leave(alice, 'nowhere')).toBe(false);

      expect([...sut.members('dev')]).toEqual([bob]);
    });

    it('returns false the second time', () => {
      sut.join(alice, 'dev');
      expect(sut.leave(alice, 'dev')).toBe(true);
      expect(sut.leave(alice, 'dev')).toBe(false);
    });

    it('forgets a room whose last member left', () => {
      sut.join(alice, 'general');
      sut.join(alice, 'dev');

      sut.leave(alice, 'dev');

      expect(sut.members('dev').size).toBe(0);
      expect([...sut.counts()]).toEqual([['general', 1]]);
    });

    it("clears the session's typing throttle for that room only", () => {
      sut.join(alice, 'general');
      sut.join(alice, 'dev');
      alice.typingAt.set('general', 1000);
      alice.typingAt.set('dev', 2000);

      sut.leave(alice, 'dev');

      expect([...alice.typingAt]).toEqual([['general', 1000]]);
    });

    it('lets the session join again', () => {
      sut.join(alice, 'dev');
      sut.join(bob, 'dev');
      sut.leave(alice, 'dev');

      expect(sut.join(alice, 'dev')).toBe(true);

      expect(sut.nicknames('dev')).toEqual(['bob', 'alice']);
    });
  });

  describe('leaveAll', () => {
    it('leaves every room and returns them in join order', () => {
      sut.join(alice, 'general');
      sut.join(alice, 'dev');
      sut.join(alice, 'ops');
      sut.join(bob, 'dev');
      alice.typingAt.set('dev', 1000);

      expect(sut.leaveAll(alice)).toEqual(['general', 'dev', 'ops']);

      expect([...alice.rooms]).toEqual([]);
      expect([...alice.typingAt]).toEqual([]);
      expect([...sut.members('dev')]).toEqual([bob]);
      expect([...sut.counts()]).toEqual([['dev', 1]]);
    });

    it('returns an empty list for a session in no room', () => {
      expect(sut.leaveAll(alice)).toEqual([]);
    });
  });

  describe('members', () => {
    it('is empty for a room nobody is in', () => {
      expect(sut.members('nowhere').size).toBe(0);
      expect(sut.nicknames('nowhere')).toEqual([]);
    });
  });

  describe('nicknames', () => {
    it('lists the current nicknames in join order', () => {
      const carol = session('carol');
      sut.join(bob, 'dev');
      sut.join(carol, 'dev');
      sut.join(alice, 'dev');
      sut.join(alice, 'general');

      expect(sut.nicknames('dev')).toEqual(['bob', 'carol', 'alice']);
      expect(sut.nicknames('general')).toEqual(['alice']);

      carol.nickname = 'caroline';

      expect(sut.nicknames('dev')).toEqual(['bob', 'caroline', 'alice']);
    });
  });

  describe('counts', () => {
    it('counts the members of every room that has any', () => {
      sut.join(alice, 'general');
      sut.join(bob, 'general');
      sut.join(bob, 'dev');

      expect(sut.counts()).toEqual(
        new Map([
          ['general', 2],
          ['dev', 1],
        ]),
      );
    });

    it('is empty when nobody is in any room', () => {
      sut.join(alice, 'general');
      sut.leaveAll(alice);
      expect(sut.counts().size).toBe(0);
    });
  });
});

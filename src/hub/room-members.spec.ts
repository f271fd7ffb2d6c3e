import { FakeTransport } from './fake-transport';
import { RoomMembers } from './room-members';
import { Session } from './session';

let nextId = 1;
function session(nickname: string): Session {
  return new Session(nextId++, new FakeTransport(), nickname, '127.0.0.1', { inc: () => undefined });
}

describe(RoomMembers.name, () => {
  let sut: RoomMembers;
  let alice: Session;
  let bob: Session;

  beforeEach(() => {
    sut = new RoomMembers();
    alice = session('alice');
    bob = session('bob');
  });

  const nicknames = (room: string): string[] => Array.from(sut.of(room), (s) => s.nickname);

  describe('add', () => {
    it('adds the session to the room and the room to the session', () => {
      expect(sut.add(alice, 'general')).toBe(true);

      expect([...sut.of('general')]).toEqual([alice]);
      expect([...sut.roomsOf(alice)]).toEqual(['general']);
      expect(sut.has(alice, 'general')).toBe(true);
    });

    it('returns false and changes nothing when already a member', () => {
      sut.add(alice, 'general');
      sut.add(bob, 'general');

      expect(sut.add(alice, 'general')).toBe(false);

      expect([...sut.of('general')]).toEqual([alice, bob]);
      expect([...sut.roomsOf(alice)]).toEqual(['general']);
    });

    it('lets a session be in several rooms', () => {
      sut.add(alice, 'general');
      sut.add(alice, 'dev');

      expect([...sut.roomsOf(alice)]).toEqual(['general', 'dev']);
      expect([...sut.of('general')]).toEqual([alice]);
      expect([...sut.of('dev')]).toEqual([alice]);
    });
  });

  describe('remove', () => {
    it('removes the session from the room and the room from the session', () => {
      sut.add(alice, 'general');
      sut.add(alice, 'dev');
      sut.add(bob, 'dev');

      expect(sut.remove(alice, 'dev')).toBe(true);

      expect([...sut.of('dev')]).toEqual([bob]);
      expect([...sut.roomsOf(alice)]).toEqual(['general']);
      expect(sut.has(alice, 'dev')).toBe(false);
    });

    it('returns false when not a member', () => {
      sut.add(bob, 'dev');

      expect(sut.remove(alice, 'dev')).toBe(false);
      expect(sut.remove(alice, 'nowhere')).toBe(false);

      expect([...sut.of('dev')]).toEqual([bob]);
    });

    it('returns false the second time', () => {
      sut.add(alice, 'dev');
      expect(sut.remove(alice, 'dev')).toBe(true);
      expect(sut.remove(alice, 'dev')).toBe(false);
    });

    it('forgets a room whose last member left, and a session in no room', () => {
      sut.add(alice, 'general');
      sut.add(alice, 'dev');

      sut.remove(alice, 'dev');

      expect(sut.of('dev').size).toBe(0);
      expect([...sut.counts()]).toEqual([['general', 1]]);

      sut.remove(alice, 'general');

      expect(sut.counts().size).toBe(0);
      expect(sut.roomsOf(alice).size).toBe(0);
    });

    it('lets the session join again, at the end of the join order', () => {
      sut.add(alice, 'dev');
      sut.add(bob, 'dev');
      sut.remove(alice, 'dev');

      expect(sut.add(alice, 'dev')).toBe(true);

      expect(nicknames('dev')).toEqual(['bob', 'alice']);
    });
  });

  describe('of', () => {
    it('is empty for a room nobody is in', () => {
      expect(sut.of('nowhere').size).toBe(0);
    });

    it('lists the members in join order, with their current nicknames', () => {
      const carol = session('carol');
      sut.add(bob, 'dev');
      sut.add(carol, 'dev');
      sut.add(alice, 'dev');
      sut.add(alice, 'general');

      expect(nicknames('dev')).toEqual(['bob', 'carol', 'alice']);
      expect(nicknames('general')).toEqual(['alice']);

      carol.nickname = 'caroline';

      expect(nicknames('dev')).toEqual(['bob', 'caroline', 'alice']);
    });
  });

  describe('roomsOf', () => {
    it('is empty for a session in no room, in join order otherwise', () => {
      expect(sut.roomsOf(alice).size).toBe(0);
      sut.add(alice, 'ops');
      sut.add(alice, 'dev');
      expect([...sut.roomsOf(alice)]).toEqual(['ops', 'dev']);
    });
  });

  describe('counts', () => {
    it('counts the members of every room that has any', () => {
      sut.add(alice, 'general');
      sut.add(bob, 'general');
      sut.add(bob, 'dev');

      expect(sut.counts()).toEqual(
        new Map([
          ['general', 2],
          ['dev', 1],
        ]),
      );
    });

    it('is empty when nobody is in any room', () => {
      sut.add(alice, 'general');
      sut.remove(alice, 'general');
      expect(sut.counts().size).toBe(0);
    });
  });
});

import type { WebSocket } from 'ws';
import { ChatException } from '../chat/chat.exception';
import { ErrorCode } from '../chat/protocol';
import { Session } from '../fanout/session';
import { NicknamesService } from './nicknames.service';
import { fakeSocket, thrownBy } from '../../test/support/fakes';

function session(nickname: string): Session {
  return new Session(fakeSocket() as unknown as WebSocket, nickname, '127.0.0.1');
}

describe(NicknamesService.name, () => {
  let sut: NicknamesService;

  beforeEach(() => {
    sut = new NicknamesService();
  });

  /** Connects a guest the way ChatService does: next free guest name, then register. */
  function connectGuest(): Session {
    const s = session(sut.nextGuestName());
    sut.register(s);
    return s;
  }

  describe('nextGuestName', () => {
    it('numbers guests from 1', () => {
      expect(connectGuest().nickname).toBe('Guest1');
      expect(connectGuest().nickname).toBe('Guest2');
      expect(sut.nicknames()).toEqual(['Guest1', 'Guest2']);
    });

    it('hands out distinct names to connections that have not registered yet', () => {
      expect([sut.nextGuestName(), sut.nextGuestName(), sut.nextGuestName()]).toEqual(['Guest1', 'Guest2', 'Guest3']);
    });

    it('skips a guest name registered by someone online, whatever its case', () => {
      sut.register(session('guest2'));
      expect(connectGuest().nickname).toBe('Guest1');
      expect(connectGuest().nickname).toBe('Guest3');
    });

    it('skips a guest name someone renamed themselves to', () => {
      const alice = connectGuest(); // Guest1
      sut.rename(alice, 'guest3');
      expect(connectGuest().nickname).toBe('Guest2');
      expect(connectGuest().nickname).toBe('Guest4');
      expect(sut.nicknames()).toEqual(['guest3', 'Guest2', 'Guest4']);
    });

    it('skips a guest name held in full-width form', () => {
      sut.register(session('ｇｕｅｓｔ１'));
      expect(sut.nextGuestName()).toBe('Guest2');
    });

    it('skips several consecutive taken names', () => {
      sut.register(session('Guest1'));
      sut.register(session('GUEST2'));
      sut.register(session('guest3'));
      expect(sut.nextGuestName()).toBe('Guest4');
    });
  });

  describe('register', () => {
    it('adds the session to the online list', () => {
      sut.register(session('alice'));
      expect(sut.nicknames()).toEqual(['alice']);
    });

    it('refuses a nickname someone online holds, ignoring case, with NICK_TAKEN', () => {
      sut.register(session('alice'));
      const error = thrownBy(() => sut.register(session('ALICE')));
      expect(error).toBeInstanceOf(ChatException);
      expect(error).toMatchObject({ code: ErrorCode.NICK_TAKEN, message: 'Nickname "ALICE" is already taken' });
      expect(sut.nicknames()).toEqual(['alice']);
    });

    it('refuses a full-width form of a nickname someone online holds', () => {
      sut.register(session('alice'));
      const error = thrownBy(() => sut.register(session('Ａlice')));
      expect(error).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });
  });

  describe('rename', () => {
    it('renames, returns the previous nickname and frees it', () => {
      const alice = connectGuest();
      expect(sut.rename(alice, 'alice')).toBe('Guest1');
      expect(alice.nickname).toBe('alice');
      expect(sut.nicknames()).toEqual(['alice']);

      const other = connectGuest();
      expect(sut.rename(other, 'guest1')).toBe('Guest2');
      expect(sut.nicknames()).toEqual(['alice', 'guest1']);
    });

    it('refuses a nickname another user holds, ignoring case, and leaves both names as they were', () => {
      const alice = session('alice');
      const bob = session('bob');
      sut.register(alice);
      sut.register(bob);

      const error = thrownBy(() => sut.rename(bob, 'Alice'));

      expect(error).toBeInstanceOf(ChatException);
      expect(error).toMatchObject({ code: ErrorCode.NICK_TAKEN, message: 'Nickname "Alice" is already taken' });
      expect(bob.nickname).toBe('bob');
      expect(sut.nicknames()).toEqual(['alice', 'bob']);
      // bob still holds "bob", alice still holds "alice"
      expect(() => sut.register(session('BOB'))).toThrow(ChatException);
      expect(() => sut.register(session('ALICE'))).toThrow(ChatException);
    });

    it('refuses a full-width form of a nickname another user holds', () => {
      sut.register(session('alice'));
      const bob = session('bob');
      sut.register(bob);
      expect(thrownBy(() => sut.rename(bob, 'Ａlice'))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });

    it('lets a user change the case of their own nickname', () => {
      const alice = session('alice');
      sut.register(alice);

      expect(sut.rename(alice, 'ALICE')).toBe('alice');

      expect(alice.nickname).toBe('ALICE');
      expect(sut.nicknames()).toEqual(['ALICE']);
      expect(thrownBy(() => sut.register(session('alice')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });

    it('accepts renaming to exactly the current nickname', () => {
      const alice = session('alice');
      sut.register(alice);
      expect(sut.rename(alice, 'alice')).toBe('alice');
      expect(sut.nicknames()).toEqual(['alice']);
    });
  });

  describe('release', () => {
    it('takes the session off the online list and frees its nickname', () => {
      const alice = session('alice');
      const bob = session('bob');
      sut.register(alice);
      sut.register(bob);

      sut.release(alice);

      expect(sut.nicknames()).toEqual(['bob']);
      expect(() => sut.register(session('Alice'))).not.toThrow();
      expect(sut.nicknames()).toEqual(['bob', 'Alice']);
    });

    it('frees the current nickname, not the one the user connected with', () => {
      const s = connectGuest();
      sut.rename(s, 'alice');
      sut.release(s);
      expect(sut.nicknames()).toEqual([]);
      expect(() => sut.register(session('alice'))).not.toThrow();
    });

    it('is harmless when called twice', () => {
      const alice = session('alice');
      sut.register(alice);
      sut.release(alice);
      const newAlice = session('alice');
      sut.register(newAlice);

      sut.release(alice);

      expect(sut.nicknames()).toEqual(['alice']);
      expect(thrownBy(() => sut.register(session('alice')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });
  });

  describe('nicknames', () => {
    it('stays current across registers, renames and releases between calls', () => {
      const first = connectGuest();
      expect(sut.nicknames()).toEqual(['Guest1']);
      const second = connectGuest();
      expect(sut.nicknames()).toEqual(['Guest1', 'Guest2']);
      sut.rename(first, 'alice');
      expect(sut.nicknames()).toEqual(['alice', 'Guest2']);
      sut.release(second);
      expect(sut.nicknames()).toEqual(['alice']);
      connectGuest();
      expect(sut.nicknames()).toEqual(['alice', 'Guest3']);
    });

    it('returns the same array until something changes, so a burst of welcomes builds it once', () => {
      connectGuest();
      expect(sut.nicknames()).toBe(sut.nicknames());
    });
  });

  describe('users', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    it('lists nickname and ISO connectedAt in connection order, with current nicknames', () => {
      jest.useFakeTimers({ now: new Date('2026-11-21T23:44:19.123Z') });
      const first = connectGuest();
      jest.setSystemTime(new Date('2026-11-21T23:45:00.000Z'));
      connectGuest();
      sut.rename(first, 'alice');

      expect(sut.users()).toEqual([
        { nickname: 'alice', connectedAt: '2026-11-21T23:44:19.123Z' },
        { nickname: 'Guest2', connectedAt: '2026-11-21T23:45:00.000Z' },
      ]);
    });

    it('is empty when nobody is online', () => {
      const s = connectGuest();
      sut.release(s);
      expect(sut.users()).toEqual([]);
    });
  });
});

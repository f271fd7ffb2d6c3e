import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { MAX_LISTED_USERS } from '../protocol/frames';
import { FakeTransport } from './fake-transport';
import { NicknameRegistry } from './nickname-registry';
import { Session } from './session';

let nextId = 1;
function session(nickname: string): Session {
  return new Session(nextId++, new FakeTransport(), nickname, '127.0.0.1', { inc: () => undefined });
}

/** What `fn` throws; fails the test if it returns instead. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe(NicknameRegistry.name, () => {
  let sut: NicknameRegistry;

  beforeEach(() => {
    sut = new NicknameRegistry();
  });

  /** Connects a guest the way the hub does: next free guest name, then register. */
  function connectGuest(): Session {
    const s = session(sut.nextGuestName());
    sut.register(s);
    return s;
  }

  const names = (sessions: Session[]): string[] => sessions.map((s) => s.nickname);

  describe('nextGuestName', () => {
    it('numbers guests from 1', () => {
      expect(connectGuest().nickname).toBe('Guest1');
      expect(connectGuest().nickname).toBe('Guest2');
      expect(sut.listed()).toEqual(['Guest1', 'Guest2']);
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
      expect(sut.listed()).toEqual(['guest3', 'Guest2', 'Guest4']);
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
      expect(sut.listed()).toEqual(['alice']);
      expect(sut.size).toBe(1);
    });

    it('refuses a nickname someone online holds, ignoring case, with NICK_TAKEN', () => {
      sut.register(session('alice'));
      const error = thrownBy(() => sut.register(session('ALICE')));
      expect(error).toBeInstanceOf(ChatException);
      expect(error).toMatchObject({ code: ErrorCode.NICK_TAKEN, message: 'Nickname "ALICE" is already taken' });
      expect(sut.listed()).toEqual(['alice']);
      expect(sut.size).toBe(1);
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
      expect(sut.listed()).toEqual(['alice']);

      const other = connectGuest();
      expect(sut.rename(other, 'guest1')).toBe('Guest2');
      expect(sut.listed()).toEqual(['alice', 'guest1']);
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
      expect(sut.listed()).toEqual(['alice', 'bob']);
      // bob still holds "bob", alice still holds "alice"
      expect(thrownBy(() => sut.register(session('BOB')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
      expect(thrownBy(() => sut.register(session('ALICE')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
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
      expect(sut.listed()).toEqual(['ALICE']);
      expect(thrownBy(() => sut.register(session('alice')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });

    it('accepts renaming to exactly the current nickname', () => {
      const alice = session('alice');
      sut.register(alice);
      expect(sut.rename(alice, 'alice')).toBe('alice');
      expect(sut.listed()).toEqual(['alice']);
    });
  });

  describe('find', () => {
    it('finds the session holding a nickname, ignoring case and width', () => {
      const alice = session('alice');
      sut.register(alice);

      expect(sut.find('alice')).toBe(alice);
      expect(sut.find('ALICE')).toBe(alice);
      expect(sut.find('ａｌｉｃｅ')).toBe(alice);
      expect(sut.find('bob')).toBeUndefined();
    });

    it('follows renames and releases', () => {
      const alice = session('alice');
      sut.register(alice);
      sut.rename(alice, 'alicia');

      expect(sut.find('alice')).toBeUndefined();
      expect(sut.find('alicia')).toBe(alice);

      sut.release(alice);

      expect(sut.find('alicia')).toBeUndefined();
    });
  });

  describe('release', () => {
    it('takes the session off the online list and frees its nickname', () => {
      const alice = session('alice');
      const bob = session('bob');
      sut.register(alice);
      sut.register(bob);

      sut.release(alice);

      expect(sut.listed()).toEqual(['bob']);
      expect(sut.size).toBe(1);
      expect(() => sut.register(session('Alice'))).not.toThrow();
      expect(sut.listed()).toEqual(['bob', 'Alice']);
    });

    it('frees the current nickname, not the one the user connected with', () => {
      const s = connectGuest();
      sut.rename(s, 'alice');
      sut.release(s);
      expect(sut.listed()).toEqual([]);
      expect(() => sut.register(session('alice'))).not.toThrow();
    });

    it('is harmless when called twice', () => {
      const alice = session('alice');
      sut.register(alice);
      sut.release(alice);
      const newAlice = session('alice');
      sut.register(newAlice);

      sut.release(alice);

      expect(sut.listed()).toEqual(['alice']);
      expect(sut.size).toBe(1);
      expect(thrownBy(() => sut.register(session('alice')))).toMatchObject({ code: ErrorCode.NICK_TAKEN });
    });
  });

  describe('listed', () => {
    it('stays current across registers, renames and releases between calls', () => {
      const first = connectGuest();
      expect(sut.listed()).toEqual(['Guest1']);
      const second = connectGuest();
      expect(sut.listed()).toEqual(['Guest1', 'Guest2']);
      sut.rename(first, 'alice');
      expect(sut.listed()).toEqual(['alice', 'Guest2']);
      sut.release(second);
      expect(sut.listed()).toEqual(['alice']);
      connectGuest();
      expect(sut.listed()).toEqual(['alice', 'Guest3']);
    });

    it('returns the same array until something changes, so a burst of welcomes builds it once', () => {
      connectGuest();
      expect(sut.listed()).toBe(sut.listed());
    });

    it(`lists the first MAX_LISTED_USERS (${MAX_LISTED_USERS}) in connection order, and stays current past them`, () => {
      const sessions = Array.from({ length: MAX_LISTED_USERS + 2 }, connectGuest);
      const expected = names(sessions.slice(0, MAX_LISTED_USERS));

      expect(sut.listed()).toEqual(expected);
      expect(sut.size).toBe(MAX_LISTED_USERS + 2);

      sut.release(sessions[0]);
      sut.rename(sessions[1], 'alice');
      connectGuest();

      expect(sut.listed()).toEqual(['alice', ...names(sessions.slice(2, MAX_LISTED_USERS + 1))]);
      expect(sut.listed()).toHaveLength(MAX_LISTED_USERS);
    });

    // A reconnect storm must stay linear: past the first MAX_LISTED_USERS, connects and departures
    // of the others leave the list alone instead of rebuilding it from everyone online.
    it('is rebuilt only when one of the listed sessions connects, renames or leaves', () => {
      const sessions = Array.from({ length: MAX_LISTED_USERS + 2 }, connectGuest);
      const first = sut.listed();

      connectGuest();
      sut.release(sessions[MAX_LISTED_USERS + 1]);
      sut.rename(sessions[MAX_LISTED_USERS], 'unlisted');
      expect(sut.listed()).toBe(first);

      sut.rename(sessions[5], 'listed');
      const renamed = sut.listed();
      expect(renamed).not.toBe(first);
      expect(renamed[5]).toBe('listed');

      sut.release(sessions[0]);
      expect(sut.listed()).not.toBe(renamed);
      expect(sut.listed().at(-1)).toBe('unlisted');
    });

    it('is 1000 names at most', () => {
      expect(MAX_LISTED_USERS).toBe(1000);
    });
  });

  describe('page', () => {
    it('pages the online sessions in connection order, with current nicknames', () => {
      const [first, second, third] = [connectGuest(), connectGuest(), connectGuest()];
      sut.rename(second, 'bob');

      expect(sut.page(0, 2)).toEqual([first, second]);
      expect(names(sut.page(1, 5))).toEqual(['bob', 'Guest3']);
      expect(sut.page(2, 1)).toEqual([third]);
      expect(sut.page(3, 10)).toEqual([]);
    });

    it('is empty when nobody is online', () => {
      const s = connectGuest();
      sut.release(s);
      expect(sut.page(0, 10)).toEqual([]);
    });
  });
});

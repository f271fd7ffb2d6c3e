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

  describe('holds for a reconnect', () => {
    const HOLD_MS = 30_000;
    const HELD = (nickname: string) => ({ code: ErrorCode.NICK_TAKEN, message: `Nickname "${nickname}" is held for a reconnecting user` });

    beforeEach(() => {
      jest.useFakeTimers();
      sut = new NicknameRegistry(HOLD_MS);
    });

    afterEach(() => {
      sut.stop();
      jest.useRealTimers();
      jest.restoreAllMocks();
    });

    /** A session named `nickname`, registered, then gone: its name is held. */
    function departed(nickname: string): Session {
      const s = session(nickname);
      sut.register(s);
      sut.release(s);
      return s;
    }

    it('keeps a closed connection off the online list but its nickname from everyone, in every clashing form', () => {
      departed('alice');
      const bob = connectGuest();

      expect(sut.size).toBe(1);
      expect(sut.listed()).toEqual(['Guest1']);
      expect(sut.find('alice')).toBeUndefined();
      for (const form of ['alice', 'ALICE', 'Ａｌｉｃｅ', 'aIice', 'а1ісе']) {
        expect(thrownBy(() => sut.rename(bob, form))).toEqual(new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${form}" is held for a reconnecting user`));
        expect(thrownBy(() => sut.register(session(form)))).toMatchObject(HELD(form));
      }
      expect(bob.nickname).toBe('Guest1');
      expect(sut.rename(bob, 'alicia')).toBe('Guest1');
    });

    it('says "already taken", not "held", when someone online clashes too', () => {
      departed('alice');
      const bob = connectGuest();
      expect(thrownBy(() => sut.rename(bob, 'ALICE'))).toMatchObject(HELD('ALICE'));

      sut.register(session('al1ce')); // no clash with alice; ALICE clashes with both

      expect(thrownBy(() => sut.rename(bob, 'ALICE'))).toMatchObject({ code: ErrorCode.NICK_TAKEN, message: 'Nickname "ALICE" is already taken' });
    });

    it('frees the name once NICK_HOLD_MS has passed, by one timer', () => {
      departed('alice');
      const bob = connectGuest();
      expect(jest.getTimerCount()).toBe(1);

      jest.advanceTimersByTime(HOLD_MS - 1);
      expect(thrownBy(() => sut.rename(bob, 'alice'))).toMatchObject(HELD('alice'));

      jest.advanceTimersByTime(1);
      expect(sut.heldCount).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(sut.rename(bob, 'alice')).toBe('Guest1');
    });

    it('frees a hold that is due even when its timer has not run yet (a busy event loop)', () => {
      departed('alice');
      const later = performance.now() + HOLD_MS;
      jest.spyOn(performance, 'now').mockReturnValue(later);

      expect(() => sut.register(session('alice'))).not.toThrow();
      expect(sut.heldCount).toBe(0);
    });

    it('frees the name at once with a hold time of 0', () => {
      sut = new NicknameRegistry(0);
      const alice = departed('alice');

      expect(sut.heldCount).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(sut.redeem(alice.reconnectToken)).toBeUndefined();
      expect(() => sut.register(session('alice'))).not.toThrow();
    });

    it('holds the current nickname, not the one the connection started with', () => {
      const s = connectGuest();
      sut.rename(s, 'alice');
      sut.release(s);

      expect(() => sut.register(session('Guest1'))).not.toThrow();
      expect(thrownBy(() => sut.register(session('alice')))).toMatchObject(HELD('alice'));
    });

    it('skips held guest names in the guest counter', () => {
      departed('guest2');
      departed('GUEST3');

      expect([sut.nextGuestName(), sut.nextGuestName()]).toEqual(['Guest1', 'Guest4']);
      jest.advanceTimersByTime(HOLD_MS);
      expect(sut.heldCount).toBe(0);
    });

    describe('redeem', () => {
      it("gives the token's held nickname once, ending the hold so that it can be registered at once", () => {
        const alice = departed('alice');

        expect(sut.redeem(alice.reconnectToken)).toEqual({ nickname: 'alice', authored: alice.authored });
        expect(sut.heldCount).toBe(0);
        const back = session('alice');
        sut.register(back);
        expect(sut.find('alice')).toBe(back);

        expect(sut.redeem(alice.reconnectToken)).toBeUndefined();
      });

      it('ignores a token that is unknown or has expired', () => {
        const alice = departed('alice');

        expect(sut.redeem('A'.repeat(43))).toBeUndefined();
        jest.advanceTimersByTime(HOLD_MS);
        expect(sut.redeem(alice.reconnectToken)).toBeUndefined();
      });

      it('ignores an expired token even before the timer has run', () => {
        const alice = departed('alice');
        jest.spyOn(performance, 'now').mockReturnValue(performance.now() + HOLD_MS);

        expect(sut.redeem(alice.reconnectToken)).toBeUndefined();
        expect(sut.heldCount).toBe(0);
      });

      it('takes the nickname from the session still online under the token, released without a hold', () => {
        const old = connectGuest();
        sut.rename(old, 'alice');
        const other = connectGuest();

        expect(sut.redeem(old.reconnectToken)).toEqual({ nickname: 'alice', replaced: old, authored: old.authored });

        expect(sut.listed()).toEqual(['Guest2']);
        expect(sut.heldCount).toBe(0);
        expect(sut.find('alice')).toBeUndefined();
        const back = session('alice');
        sut.register(back);
        expect(sut.find('alice')).toBe(back);
        expect(thrownBy(() => sut.rename(other, 'ALICE'))).toMatchObject({ message: 'Nickname "ALICE" is already taken' });
        // The replaced session's own release, later, changes nothing.
        sut.release(old);
        expect(sut.find('alice')).toBe(back);
        expect(sut.heldCount).toBe(0);
        expect(sut.redeem(old.reconnectToken)).toBeUndefined();
      });

      it('takes over with a hold time of 0 too', () => {
        sut = new NicknameRegistry(0);
        const old = session('alice');
        sut.register(old);

        expect(sut.redeem(old.reconnectToken)).toEqual({ nickname: 'alice', replaced: old, authored: old.authored });
      });

      it('holds the name for the new connection\'s own token when that one closes, not for the used one', () => {
        const first = departed('alice');
        const back = session(sut.redeem(first.reconnectToken)!.nickname);
        sut.register(back);

        sut.release(back);

        expect(thrownBy(() => sut.register(session('alice')))).toMatchObject(HELD('alice'));
        expect(sut.redeem(first.reconnectToken)).toBeUndefined();
        expect(sut.redeem(back.reconnectToken)).toEqual({ nickname: 'alice', authored: back.authored });
      });
    });

    // 10,000 disconnects, then a reconnect storm of 10,000 clients: every step is O(1) per client
    // (one map entry per hold, one timer for them all), and nothing is left once the holds end.
    it('holds 10,000 names with one timer and lets them all go, linear in time', () => {
      const gone = Array.from({ length: 10_000 }, (_, i) => departed(`user${i}`));
      expect(sut.heldCount).toBe(10_000);
      expect(jest.getTimerCount()).toBe(1);

      const realNow = jest.requireActual<typeof import('node:perf_hooks')>('node:perf_hooks').performance;
      const t0 = realNow.now();
      for (const s of gone.slice(0, 5_000)) sut.register(session(sut.redeem(s.reconnectToken)!.nickname));
      const elapsed = realNow.now() - t0;
      expect(sut.heldCount).toBe(5_000);
      expect(sut.size).toBe(5_000);
      expect(elapsed).toBeLessThan(2_000);

      jest.advanceTimersByTime(HOLD_MS);
      expect(sut.heldCount).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(() => sut.register(session('user9999'))).not.toThrow();
    });
  });
});

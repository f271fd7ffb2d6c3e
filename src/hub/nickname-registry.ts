import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { MAX_LISTED_USERS } from '../protocol/frames';
import { nicknameKey, nicknameKeys } from '../protocol/nickname';
import type { Authored } from './authored';
import { pageOf } from './page';
import type { Session } from './session';

/** A closed connection's nickname, kept for whoever presents its reconnect token until `expiresAt`. */
interface Hold {
  nickname: string;
  token: string;
  /** The comparison keys it blocks (nicknameKeys of the name), kept so ending it computes none. */
  keys: string[];
  /** performance.now() time: monotonic, so a wall-clock change neither ends holds nor keeps them. */
  expiresAt: number;
  /** The messages the lineage sent: the token's next connection may edit them (Authored). */
  authored: Authored;
}

/** What a redeemed reconnect token gives a new connection. */
export interface Reclaimed {
  nickname: string;
  /** The connection still online under the token, already released here: the caller closes it. */
  replaced?: Session;
  /** The messages the token's lineage sent, which the new connection may edit and delete. */
  authored: Authored;
}

/**
 * Who is online under which nickname, and which nicknames are held for a reconnect. A nickname is
 * taken while anyone online, or any hold, shares one of its keys (case and compatibility forms,
 * confusable look-alikes: protocol/nickname.ts).
 */
export class NicknameRegistry {
  private readonly byKey = new Map<string, Session>();
  private readonly online = new Set<Session>();
  private readonly byToken = new Map<string, Session>();
  private readonly heldKeys = new Map<string, Hold>();
  /**
   * Holds by token, in the order they began. Every hold lasts holdMs, so this is also the order
   * they end in: one timer for the oldest serves them all, and ending each costs O(1).
   */
  private readonly holds = new Map<string, Hold>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private guestCounter = 0;
  /**
   * The first MAX_LISTED_USERS online nicknames, kept between calls (every welcome lists them),
   * and whose they are. Rebuilt only when one of those sessions connects, renames or leaves, and
   * at the cost of those names alone: a connect never costs in proportion to everyone online.
   */
  private head: string[] | null = null;
  private headSessions = new Set<Session>();

  /** `holdMs`: how long a closed connection's nickname stays reserved for its token; 0 frees it at once. */
  /**
   * `holdMs`: how long a closed connection's nickname stays reserved for its token; 0 frees it at
   * once. `elsewhere`: whether another node's connection has a nickname key (cluster mode).
   */
  constructor(
    private readonly holdMs = 0,
    private readonly elsewhere: (key: string) => boolean = () => false,
  ) {}

  get size(): number {
    return this.online.size;
  }

  /** Nicknames held for a reconnect now. */
  get heldCount(): number {
    return this.holds.size;
  }

  /** The next free `Guest<N>`; numbers taken by someone online or held are skipped. */
  nextGuestName(): string {
    let name: string;
    do {
      name = `Guest${this.guestNumbers?.() ?? ++this.guestCounter}`;
    } while (this.clash(name) !== undefined);
    return name;
  }

  /**
   * Cluster mode: where guest numbers come from instead of this registry's own counter (numbers
   * no other node hands out), so that two nodes never name two guests alike at the same moment.
   * Undefined from it: the own counter again.
   */
  guestNumbers: (() => number | undefined) | null = null;

  /**
   * Puts `session` online under its nickname. `exclusive` (guest and chosen names) throws
   * NICK_TAKEN on a clash. Otherwise (names from an identity provider, which two users may share)
   * it never throws and takes only the keys nobody holds: `find` gets whoever had the name first.
   */
  register(session: Session, exclusive = true): void {
    if (exclusive) {
      this.assertFree(session.nickname);
      this.claim(session, session.nickname);
    } else {
      for (const key of nicknameKeys(session.nickname)) if (!this.byKey.has(key)) this.byKey.set(key, session);
    }
    this.online.add(session);
    this.byToken.set(session.reconnectToken, session);
    if (this.online.size <= MAX_LISTED_USERS) this.head = null;
  }

  /** Renames `session`; returns the previous nickname. Throws NICK_TAKEN if another user has it or it is held. */
  rename(session: Session, nickname: string): string {
    const previous = session.nickname;
    this.assertFree(nickname, session);
    this.unclaim(session, previous);
    this.claim(session, nickname);
    session.nickname = nickname;
    if (this.headSessions.has(session)) this.head = null;
    return previous;
  }

  /** The online session holding `nickname` (compared ignoring case and width, not look-alikes). */
  find(nickname: string): Session | undefined {
    const session = this.byKey.get(nicknameKey(nickname));
    return session && nicknameKey(session.nickname) === nicknameKey(nickname) ? session : undefined;
  }

  /**
   * The connection is gone. With `hold` (and a hold time), its nickname stays reserved for its
   * reconnect token for holdMs; otherwise it is free at once. Its token works no more while it is
   * not held.
   */
  release(session: Session, hold = true): void {
    if (!this.online.delete(session)) return;
    if (this.headSessions.has(session)) this.head = null;
    this.byToken.delete(session.reconnectToken);
    if (!hold || this.holdMs <= 0) return this.unclaim(session, session.nickname);
    const keys = nicknameKeys(session.nickname).filter((key) => this.byKey.get(key) === session);
    const entry: Hold = { nickname: session.nickname, token: session.reconnectToken, keys, expiresAt: performance.now() + this.holdMs, authored: session.authored };
    for (const key of keys) {
      this.byKey.delete(key);
      this.heldKeys.set(key, entry);
    }
    this.holds.set(entry.token, entry);
    this.scheduleExpiry();
  }

  /**
   * Consumes a reconnect token presented by a new connection: the nickname it holds, whose hold
   * ends here, or the nickname of the session still online under it, which is released here
   * without a hold. Either way the name is free for the caller to register at once, before
   * anything else runs. Undefined for a token that is unknown, used or expired.
   */
  redeem(token: string): Reclaimed | undefined {
    const session = this.byToken.get(token);
    if (session) {
      this.release(session, false);
      return { nickname: session.nickname, replaced: session, authored: session.authored };
    }
    const hold = this.holds.get(token);
    if (!hold || this.expired(hold)) return undefined;
    this.end(hold);
    return { nickname: hold.nickname, authored: hold.authored };
  }

  /** Ends every hold and its timer (the hub is going away). */
  stop(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.holds.clear();
    this.heldKeys.clear();
  }

  /** Online nicknames in connection order, at most MAX_LISTED_USERS. Shared: callers must not change it. */
  listed(): readonly string[] {
    if (this.head) return this.head;
    const sessions = pageOf(this.online, 0, MAX_LISTED_USERS);
    this.headSessions = new Set(sessions);
    return (this.head = sessions.map((s) => s.nickname));
  }

  /** Online sessions in connection order, `limit` of them from `offset`. */
  page(offset: number, limit: number): Session[] {
    return pageOf(this.online, offset, limit);
  }

  /** Throws NICK_TAKEN unless `nickname` is free for `self` (its own current name is). */
  assertFree(nickname: string, self?: Session): void {
    const clash = this.clash(nickname, self);
    if (clash === 'online') throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${nickname}" is already taken`);
    if (clash === 'held') throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${nickname}" is held for a reconnecting user`);
  }

  /** Whether another session online, or a hold, has one of the name's keys; online wins when both do. */
  private clash(nickname: string, self?: Session): 'online' | 'held' | undefined {
    let held = false;
    for (const key of nicknameKeys(nickname)) {
      const holder = this.byKey.get(key);
      if ((holder !== undefined && holder !== self) || (holder === undefined && this.elsewhere(key))) return 'online';
      const hold = this.heldKeys.get(key);
      if (hold !== undefined && !this.expired(hold)) held = true;
    }
    return held ? 'held' : undefined;
  }

  /** Ends `hold` if its time is up (the timer may not have run yet); true if it has ended. */
  private expired(hold: Hold): boolean {
    if (hold.expiresAt > performance.now()) return false;
    this.end(hold);
    return true;
  }

  private end(hold: Hold): void {
    this.holds.delete(hold.token);
    for (const key of hold.keys) if (this.heldKeys.get(key) === hold) this.heldKeys.delete(key);
  }

  /** Arms the one timer for the oldest hold, unless it is armed already. */
  private scheduleExpiry(): void {
    if (this.expiryTimer) return;
    const oldest = this.holds.values().next();
    if (oldest.done) return;
    this.expiryTimer = setTimeout(() => this.expireDue(), Math.max(0, oldest.value.expiresAt - performance.now()));
    this.expiryTimer.unref();
  }

  private expireDue(): void {
    this.expiryTimer = null;
    const now = performance.now();
    for (const hold of this.holds.values()) {
      if (hold.expiresAt > now) break;
      this.end(hold);
    }
    this.scheduleExpiry();
  }

  private claim(session: Session, nickname: string): void {
    for (const key of nicknameKeys(nickname)) this.byKey.set(key, session);
  }

  private unclaim(session: Session, nickname: string): void {
    for (const key of nicknameKeys(nickname)) if (this.byKey.get(key) === session) this.byKey.delete(key);
  }
}

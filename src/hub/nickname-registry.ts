import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { MAX_LISTED_USERS } from '../protocol/frames';
import { nicknameKey, nicknameKeys } from '../protocol/nickname';
import { pageOf } from './page';
import type { Session } from './session';

/**
 * Who is online under which nickname. A nickname is taken while anyone online shares one of its
 * keys (case and compatibility forms, confusable look-alikes: protocol/nickname.ts).
 */
export class NicknameRegistry {
  private readonly byKey = new Map<string, Session>();
  private readonly online = new Set<Session>();
  private guestCounter = 0;
  /**
   * The first MAX_LISTED_USERS online nicknames, kept between calls (every welcome lists them),
   * and whose they are. Rebuilt only when one of those sessions connects, renames or leaves, and
   * at the cost of those names alone: a connect never costs in proportion to everyone online.
   */
  private head: string[] | null = null;
  private headSessions = new Set<Session>();

  get size(): number {
    return this.online.size;
  }

  /** The next free `Guest<N>`; numbers taken by someone online are skipped. */
  nextGuestName(): string {
    let name: string;
    do {
      name = `Guest${++this.guestCounter}`;
    } while (this.isTaken(name));
    return name;
  }

  register(session: Session): void {
    if (this.isTaken(session.nickname)) {
      throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${session.nickname}" is already taken`);
    }
    this.claim(session, session.nickname);
    this.online.add(session);
    if (this.online.size <= MAX_LISTED_USERS) this.head = null;
  }

  /** Renames `session`; returns the previous nickname. Throws NICK_TAKEN if another user has it. */
  rename(session: Session, nickname: string): string {
    const previous = session.nickname;
    if (this.isTaken(nickname, session)) {
      throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${nickname}" is already taken`);
    }
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

  release(session: Session): void {
    this.unclaim(session, session.nickname);
    if (this.online.delete(session) && this.headSessions.has(session)) this.head = null;
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

  private isTaken(nickname: string, self?: Session): boolean {
    return nicknameKeys(nickname).some((key) => {
      const holder = this.byKey.get(key);
      return holder !== undefined && holder !== self;
    });
  }

  private claim(session: Session, nickname: string): void {
    for (const key of nicknameKeys(nickname)) this.byKey.set(key, session);
  }

  private unclaim(session: Session, nickname: string): void {
    for (const key of nicknameKeys(nickname)) if (this.byKey.get(key) === session) this.byKey.delete(key);
  }
}

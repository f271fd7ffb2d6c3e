import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { MAX_LISTED_USERS } from '../protocol/frames';
import { nicknameKey, nicknameKeys } from '../protocol/nickname';
import type { Session } from './session';

/**
 * Who is online under which nickname. A nickname is taken while anyone online shares one of its
 * keys (case and compatibility forms, confusable look-alikes: protocol/nickname.ts).
 */
export class NicknameRegistry {
  private readonly byKey = new Map<string, Session>();
  private readonly online = new Set<Session>();
  private guestCounter = 0;
  /** Online nicknames in connection order, kept between calls: every welcome lists them. */
  private list: string[] | null = null;
  /** The first MAX_LISTED_USERS of `list`, once it is longer. */
  private head: string[] | null = null;

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
    this.list?.push(session.nickname);
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
    this.list = this.head = null;
    return previous;
  }

  /** The online session holding `nickname` (compared ignoring case and width, not look-alikes). */
  find(nickname: string): Session | undefined {
    const session = this.byKey.get(nicknameKey(nickname));
    return session && nicknameKey(session.nickname) === nicknameKey(nickname) ? session : undefined;
  }

  release(session: Session): void {
    this.unclaim(session, session.nickname);
    if (this.online.delete(session)) this.list = this.head = null;
  }

  /** Online nicknames in connection order, at most MAX_LISTED_USERS. Shared: callers must not change it. */
  listed(): readonly string[] {
    const all = (this.list ??= Array.from(this.online, (s) => s.nickname));
    if (all.length <= MAX_LISTED_USERS) return all;
    return (this.head ??= all.slice(0, MAX_LISTED_USERS));
  }

  /** Online sessions in connection order, `limit` of them from `offset`. */
  page(offset: number, limit: number): Session[] {
    const page: Session[] = [];
    let i = 0;
    for (const session of this.online) {
      if (i++ < offset) continue;
      if (page.length === limit) break;
      page.push(session);
    }
    return page;
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

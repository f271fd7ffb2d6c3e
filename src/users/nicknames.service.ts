import { Injectable } from '@nestjs/common';
import { ChatException } from '../chat/chat.exception';
import { ErrorCode } from '../chat/protocol';
import type { Session } from '../fanout/session';
import { nicknameKey } from './nickname';

export interface OnlineUser {
  nickname: string;
  connectedAt: string;
}

/** Who is online and under which nickname; nicknames are unique among connected users. */
@Injectable()
export class NicknamesService {
  private readonly byKey = new Map<string, Session>();
  private readonly online = new Set<Session>();
  private guestCounter = 0;
  /** nicknames(), kept between calls: every welcome lists everyone, so a burst of connects would rebuild it each time. */
  private list: string[] | null = null;

  /** The next free `Guest<N>`; numbers taken by someone online are skipped. */
  nextGuestName(): string {
    let name: string;
    do {
      name = `Guest${++this.guestCounter}`;
    } while (this.byKey.has(nicknameKey(name)));
    return name;
  }

  register(session: Session): void {
    const key = nicknameKey(session.nickname);
    if (this.byKey.has(key)) {
      throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${session.nickname}" is already taken`);
    }
    this.byKey.set(key, session);
    this.online.add(session);
    this.list?.push(session.nickname);
  }

  /** Renames `session`; returns the previous nickname. Throws NICK_TAKEN if another user has it. */
  rename(session: Session, nickname: string): string {
    const previous = session.nickname;
    const key = nicknameKey(nickname);
    const holder = this.byKey.get(key);
    if (holder && holder !== session) {
      throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${nickname}" is already taken`);
    }
    this.byKey.delete(nicknameKey(previous));
    this.byKey.set(key, session);
    session.nickname = nickname;
    this.list = null;
    return previous;
  }

  /** The online session holding `nickname` (compared like uniqueness: ignoring case and width). */
  find(nickname: string): Session | undefined {
    return this.byKey.get(nicknameKey(nickname));
  }

  release(session: Session): void {
    const key = nicknameKey(session.nickname);
    if (this.byKey.get(key) === session) {
      this.byKey.delete(key);
    }
    if (this.online.delete(session)) this.list = null;
  }

  /** Online nicknames in connection order. The array is shared: callers must not change it. */
  nicknames(): readonly string[] {
    return (this.list ??= Array.from(this.online, (s) => s.nickname));
  }

  users(): OnlineUser[] {
    return Array.from(this.online, (s) => ({ nickname: s.nickname, connectedAt: new Date(s.connectedAt).toISOString() }));
  }
}

import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { MAX_LISTED_USERS } from '../protocol/frames';
import { nicknameKey } from '../protocol/nickname';
import { pageOf } from './page';
import type { User } from './user';

/** The first MAX_LISTED_USERS online users, as a welcome lists them: names and ids, index for index. */
export interface ListedUsers {
  names: readonly string[];
  ids: readonly string[];
}

/**
 * Who is online in jwt mode: users (not connections), in the order they came online, found by id
 * or by nickname. Nicknames are display names here, not unique: a nickname may name several users.
 */
export class UserDirectory {
  private readonly byId = new Map<string, User>();
  /** The same users in the order they came online, for paging without a copy. */
  private readonly online = new Set<User>();
  private readonly byNickname = new Map<string, Set<User>>();
  /** The welcome's list, kept between calls and rebuilt only when one of its users comes or goes (as NicknameRegistry's head). */
  private head: ListedUsers | null = null;
  private headUsers = new Set<User>();

  get size(): number {
    return this.byId.size;
  }

  get(userId: string): User | undefined {
    return this.byId.get(userId);
  }

  add(user: User): void {
    this.byId.set(user.userId, user);
    this.online.add(user);
    const key = nicknameKey(user.nickname);
    let named = this.byNickname.get(key);
    if (!named) this.byNickname.set(key, (named = new Set()));
    named.add(user);
    if (this.byId.size <= MAX_LISTED_USERS) this.head = null;
  }

  remove(user: User): void {
    if (this.byId.get(user.userId) !== user) return;
    this.byId.delete(user.userId);
    this.online.delete(user);
    const key = nicknameKey(user.nickname);
    const named = this.byNickname.get(key);
    named?.delete(user);
    if (named?.size === 0) this.byNickname.delete(key);
    if (this.headUsers.has(user)) this.head = null;
  }

  /**
   * The online user `ref` names: the one with that exact id, else the one with that nickname
   * (compared as nicknames are, ignoring case and width). Several with that nickname: VALIDATION.
   */
  find(ref: string): User | undefined {
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const named = this.byNickname.get(nicknameKey(ref));
    if (!named || named.size === 0) return undefined;
    if (named.size > 1) throw ambiguous(ref);
    return named.values().next().value;
  }

  listed(): ListedUsers {
    if (this.head) return this.head;
    const users = pageOf(this.online, 0, MAX_LISTED_USERS);
    this.headUsers = new Set(users);
    return (this.head = { names: users.map((u) => u.nickname), ids: users.map((u) => u.userId) });
  }

  page(offset: number, limit: number): User[] {
    return pageOf(this.online, offset, limit);
  }
}

/** The error for a nickname that several users share. */
export function ambiguous(nickname: string): ChatException {
  return new ChatException(ErrorCode.VALIDATION, `Several users are named "${nickname}"; use the user id`);
}

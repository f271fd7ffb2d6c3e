import { nicknameKey } from '../protocol/nickname';
import { ambiguous } from './user-directory';

/** A private room as the store knows it, for loading at startup. */
export interface PrivateRoomInfo {
  name: string;
  /** Null for a room whose owner is unknown (the store allows it). */
  ownerId: string | null;
  members: ReadonlyArray<{ userId: string; nickname: string }>;
}

/** A member of a private room, named by its id and its last known nickname. */
export interface RoomMember {
  userId: string;
  nickname: string;
}

interface PrivateRoom {
  ownerId: string | null;
  /** user id -> last known nickname, online or not. */
  members: Map<string, string>;
}

const NOWHERE: ReadonlySet<string> = new Set();

/**
 * Every private room with its owner and all its members, online or not, in memory: loaded from the
 * store at startup and changed with it, so that whether a user may see a room is answered without a
 * database read (the store stays the source of truth; this follows it). Public rooms are not here.
 */
export class PrivateRooms {
  private readonly rooms = new Map<string, PrivateRoom>();
  private readonly byUser = new Map<string, Set<string>>();
  /** Cluster mode: told of every change after load(), so that every node's registry agrees. */
  watch: PrivateRoomWatch | null = null;

  /** Replaces what is known with `rooms` (at startup). */
  load(rooms: Iterable<PrivateRoomInfo>): void {
    this.rooms.clear();
    this.byUser.clear();
    for (const { name, ownerId, members } of rooms) {
      this.rooms.set(name, { ownerId, members: new Map() });
      for (const { userId, nickname } of members) this.add(name, userId, nickname);
    }
  }

  get size(): number {
    return this.rooms.size;
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  ownerOf(room: string): string | null | undefined {
    return this.rooms.get(room)?.ownerId;
  }

  isMember(room: string, userId: string | undefined): boolean {
    return userId !== undefined && (this.rooms.get(room)?.members.has(userId) ?? false);
  }

  /** Whether `userId` may read `room` (its messages, members, history): a public room, or a member. Anonymous: public rooms only. */
  mayRead(room: string, userId: string | undefined): boolean {
    return !this.rooms.has(room) || this.isMember(room, userId);
  }

  /** Whether `userId` may join `room`: it may read it, or owns it (an owner who left may come back). */
  mayJoin(room: string, userId: string | undefined): boolean {
    return this.mayRead(room, userId) || (userId !== undefined && this.rooms.get(room)?.ownerId === userId);
  }

  /** A new private room with its owner as its only member. */
  create(room: string, owner: RoomMember): void {
    this.rooms.set(room, { ownerId: owner.userId, members: new Map() });
    this.watch?.({ op: 'created', room, ownerId: owner.userId });
    this.add(room, owner.userId, owner.nickname);
  }

  /** Forgets a room (a creation the store refused). */
  drop(room: string): void {
    const entry = this.rooms.get(room);
    if (!entry) return;
    for (const userId of [...entry.members.keys()]) this.remove(room, userId);
    this.rooms.delete(room);
    this.watch?.({ op: 'dropped', room });
  }

  /** Makes `userId` a member of the private room `room`; nothing for a room that is not private. */
  add(room: string, userId: string, nickname: string): void {
    const entry = this.rooms.get(room);
    if (!entry) return;
    entry.members.set(userId, nickname);
    this.watch?.({ op: 'added', room, userId, nickname });
    let rooms = this.byUser.get(userId);
    if (!rooms) this.byUser.set(userId, (rooms = new Set()));
    rooms.add(room);
  }

  /** False if `userId` was not a member. */
  remove(room: string, userId: string): boolean {
    if (!this.rooms.get(room)?.members.delete(userId)) return false;
    const rooms = this.byUser.get(userId);
    rooms?.delete(room);
    if (rooms?.size === 0) this.byUser.delete(userId);
    this.watch?.({ op: 'removed', room, userId });
    return true;
  }

  /** Another node's change (cluster mode), not told to the watch again. */
  apply(change: PrivateRoomChange): void {
    const watch = this.watch;
    this.watch = null;
    try {
      if (change.op === 'created') this.rooms.set(change.room, { ownerId: change.ownerId, members: this.rooms.get(change.room)?.members ?? new Map<string, string>() });
      else if (change.op === 'dropped') this.drop(change.room);
      else if (change.op === 'added') this.add(change.room, change.userId, change.nickname);
      else this.remove(change.room, change.userId);
    } finally {
      this.watch = watch;
    }
  }

  /** The private rooms `userId` is a member of. */
  roomsOf(userId: string): ReadonlySet<string> {
    return this.byUser.get(userId) ?? NOWHERE;
  }

  /** A user came online under `nickname`: its rooms name it so from now on. */
  renamed(userId: string, nickname: string): void {
    for (const room of this.roomsOf(userId)) this.rooms.get(room)?.members.set(userId, nickname);
  }

  /**
   * The member of `room` that `ref` names: the one with that exact id, else the one with that
   * nickname (compared as nicknames are). Several members with that nickname: VALIDATION.
   */
  findMember(room: string, ref: string): RoomMember | undefined {
    const members = this.rooms.get(room)?.members;
    if (!members) return undefined;
    const nickname = members.get(ref);
    if (nickname !== undefined) return { userId: ref, nickname };
    const key = nicknameKey(ref);
    let found: RoomMember | undefined;
    for (const [userId, name] of members) {
      if (nicknameKey(name) !== key) continue;
      if (found) throw ambiguous(ref);
      found = { userId, nickname: name };
    }
    return found;
  }
}

/** A change to the private rooms' registry, as the other nodes apply it (PrivateRooms.apply). */
export type PrivateRoomChange =
  | { op: 'created'; room: string; ownerId: string }
  | { op: 'dropped'; room: string }
  | { op: 'added'; room: string; userId: string; nickname: string }
  | { op: 'removed'; room: string; userId: string };

export type PrivateRoomWatch = (change: PrivateRoomChange) => void;

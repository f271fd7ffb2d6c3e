import type { Session } from './session';

export interface RoomWatch<T> {
  added(member: T, room: string): void;
  removed(member: T, room: string): void;
}

const NOWHERE: ReadonlySet<string> = new Set();

/**
 * Who is in which room on this node, both ways (socket.io's rooms and sids). A room with no members
 * is forgotten. The hub keeps one of sessions (who gets a room's frames) and, in jwt mode, one of
 * users (who is present in a room, whatever their number of connections).
 */
export class RoomMembers<T extends object = Session> {
  private static readonly NOBODY: ReadonlySet<never> = new Set();
  private readonly byRoom = new Map<string, Set<T>>();
  private readonly byMember = new Map<T, Set<string>>();

  /** `watch`: told of every change (cluster mode: the other nodes mirror who is where). */
  constructor(private readonly watch?: RoomWatch<T>) {}

  /** Adds `member` to `room`; false if it was already a member. */
  add(member: T, room: string): boolean {
    let rooms = this.byMember.get(member);
    if (rooms?.has(room)) return false;
    if (!rooms) this.byMember.set(member, (rooms = new Set()));
    rooms.add(room);
    let members = this.byRoom.get(room);
    if (!members) this.byRoom.set(room, (members = new Set()));
    members.add(member);
    this.watch?.added(member, room);
    return true;
  }

  /** Removes `member` from `room`; false if it was not a member. */
  remove(member: T, room: string): boolean {
    const rooms = this.byMember.get(member);
    if (!rooms?.delete(room)) return false;
    if (rooms.size === 0) this.byMember.delete(member);
    const members = this.byRoom.get(room);
    members?.delete(member);
    if (members?.size === 0) this.byRoom.delete(room);
    this.watch?.removed(member, room);
    return true;
  }

  has(member: T, room: string): boolean {
    return this.byMember.get(member)?.has(room) ?? false;
  }

  roomsOf(member: T): ReadonlySet<string> {
    return this.byMember.get(member) ?? NOWHERE;
  }

  of(room: string): ReadonlySet<T> {
    return this.byRoom.get(room) ?? RoomMembers.NOBODY;
  }

  /** Member count of every room that has members. */
  counts(): Map<string, number> {
    return new Map(Array.from(this.byRoom, ([room, members]) => [room, members.size]));
  }
}

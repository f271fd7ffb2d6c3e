import type { Session } from './session';

const NOBODY: ReadonlySet<Session> = new Set();
const NOWHERE: ReadonlySet<string> = new Set();

/** Who is in which room on this node, both ways (socket.io's rooms and sids). A room with no members is forgotten. */
export class RoomMembers {
  private readonly byRoom = new Map<string, Set<Session>>();
  private readonly bySession = new Map<Session, Set<string>>();

  /** Adds `session` to `room`; false if it was already a member. */
  add(session: Session, room: string): boolean {
    let rooms = this.bySession.get(session);
    if (rooms?.has(room)) return false;
    if (!rooms) this.bySession.set(session, (rooms = new Set()));
    rooms.add(room);
    let members = this.byRoom.get(room);
    if (!members) this.byRoom.set(room, (members = new Set()));
    members.add(session);
    return true;
  }

  /** Removes `session` from `room`; false if it was not a member. */
  remove(session: Session, room: string): boolean {
    const rooms = this.bySession.get(session);
    if (!rooms?.delete(room)) return false;
    if (rooms.size === 0) this.bySession.delete(session);
    const members = this.byRoom.get(room);
    members?.delete(session);
    if (members?.size === 0) this.byRoom.delete(room);
    return true;
  }

  has(session: Session, room: string): boolean {
    return this.bySession.get(session)?.has(room) ?? false;
  }

  roomsOf(session: Session): ReadonlySet<string> {
    return this.bySession.get(session) ?? NOWHERE;
  }

  of(room: string): ReadonlySet<Session> {
    return this.byRoom.get(room) ?? NOBODY;
  }

  /** Member count of every room that has members. */
  counts(): Map<string, number> {
    return new Map(Array.from(this.byRoom, ([room, members]) => [room, members.size]));
  }
}

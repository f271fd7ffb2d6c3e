import { Injectable } from '@nestjs/common';
import type { Session } from '../fanout/session';

const NOBODY: ReadonlySet<Session> = new Set();

/** Who is in which room on this server. A room with no members is forgotten here. */
@Injectable()
export class RoomMembersService {
  private readonly rooms = new Map<string, Set<Session>>();

  /** Adds `session` to `room`; false if it was already a member. */
  join(session: Session, room: string): boolean {
    if (session.rooms.has(room)) return false;
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(session);
    session.rooms.add(room);
    return true;
  }

  /** Removes `session` from `room`; false if it was not a member. */
  leave(session: Session, room: string): boolean {
    if (!session.rooms.delete(room)) return false;
    const members = this.rooms.get(room);
    members?.delete(session);
    if (members?.size === 0) this.rooms.delete(room);
    session.forgetTyping(room);
    return true;
  }

  /** Removes `session` from every room; returns the rooms it was in. */
  leaveAll(session: Session): string[] {
    const left = [...session.rooms];
    for (const room of left) this.leave(session, room);
    return left;
  }

  members(room: string): ReadonlySet<Session> {
    return this.rooms.get(room) ?? NOBODY;
  }

  nicknames(room: string): string[] {
    return Array.from(this.members(room), (s) => s.nickname);
  }

  /** Member count of every room that has members. */
  counts(): Map<string, number> {
    return new Map(Array.from(this.rooms, ([room, members]) => [room, members.size]));
  }
}

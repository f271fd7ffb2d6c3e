import { notification, type PresenceFrame, type ServerFrame } from '../protocol/frames';
import { pageOf } from './page';
import { PresenceBatcher } from './presence-batcher';
import type { RoomMembers } from './room-members';
import type { Session } from './session';

/** Sends `frame` to the members of `room`, except the session `except`; returns the encoded frame. */
type PublishToRoom = (room: string, frame: ServerFrame, except?: number) => Buffer;

/**
 * How a room learns who came and who went: one notification per join and leave in a small room,
 * one presence_diff per interval in a large one, so a reconnect storm stays linear. The hub's own
 * part (it alone calls it); membership itself stays in RoomMembers.
 */
export class RoomPresence {
  private readonly batcher: PresenceBatcher;

  constructor(
    private readonly members: RoomMembers,
    private readonly threshold: number,
    intervalMs: number,
    private readonly publish: PublishToRoom,
  ) {
    this.batcher = new PresenceBatcher(intervalMs, (room, diff) =>
      publish(room, { type: 'presence_diff', room, ...diff, usersTotal: members.of(room).size }),
    );
  }

  /** A page of the room's members in join order, with how many there are. */
  page(room: string, offset: number, limit: number): PresenceFrame {
    const members = this.members.of(room);
    const users = pageOf(members, offset, limit).map((session) => session.nickname);
    return { type: 'presence', room, users, usersTotal: members.size, offset };
  }

  /**
   * The joiner gets its own join notification at once (the end of its join sequence). The other
   * members get it too in a small room; in a large one, as part of the next presence_diff.
   */
  joined(session: Session, room: string): void {
    const frame = notification('join', room, session.nickname);
    if (this.batched(room, this.members.of(room).size)) {
      session.send(frame);
      this.batcher.joined(room, session.nickname);
      return;
    }
    session.write(this.publish(room, frame, session.id));
  }

  /** Called once the leaver is out of the room. */
  left(session: Session, room: string): void {
    // The room size with the leaver, as for the join: the same threshold for both.
    if (this.batched(room, this.members.of(room).size + 1)) {
      this.batcher.left(room, session.nickname);
      return;
    }
    this.publish(room, notification('leave', room, session.nickname));
  }

  /** Pending joins and leaves follow a rename, so a diff names members as clients know them. */
  renamed(previous: string, nickname: string): void {
    this.batcher.renamed(previous, nickname);
  }

  /** Forgets what is pending, without sending it (shutdown). */
  stop(): void {
    this.batcher.stop();
  }

  /**
   * A room's joins and leaves are batched while it has more than the threshold's members, and
   * also while it has a diff pending: a room that shrank meanwhile must not announce a leave
   * before the diff that announces the same person's join.
   */
  private batched(room: string, size: number): boolean {
    return size > this.threshold || this.batcher.isPending(room);
  }
}

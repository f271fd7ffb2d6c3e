import { notification, type PresenceFrame, type ServerFrame } from '../protocol/frames';
import { pageOf } from './page';
import { PresenceBatcher } from './presence-batcher';
import type { Session } from './session';
import type { Member } from './user';

/** Sends `frame` to the members of `room`, except the member `except`; returns the encoded frame. */
type PublishToRoom = (room: string, frame: ServerFrame, except?: Member) => Buffer;

/**
 * How a room learns who came and who went: one notification per join and leave in a small room,
 * one presence_diff per interval in a large one, so a reconnect storm stays linear. The hub's own
 * part (it alone calls it); membership itself stays in RoomMembers. The roster is who is present:
 * connections in anonymous mode, users in jwt mode (`identified`: frames then carry user ids).
 */
export class RoomPresence {
  private readonly batcher: PresenceBatcher;

  constructor(
    /**
     * Who is present in a room (cluster mode: on every node), and a quick count of them for the
     * batching threshold (cluster mode: it may count a user present on two nodes twice).
     */
    private readonly roster: { of(room: string): ReadonlySet<Member>; size(room: string): number },
    private readonly threshold: number,
    intervalMs: number,
    private readonly publish: PublishToRoom,
    private readonly identified = false,
  ) {
    this.batcher = new PresenceBatcher(intervalMs, (room, diff) =>
      publish(room, { type: 'presence_diff', room, ...diff, usersTotal: roster.of(room).size }),
    );
  }

  /** A page of the room's members in join order, with how many there are. */
  page(room: string, offset: number, limit: number): PresenceFrame {
    const members = this.roster.of(room);
    const page = pageOf(members, offset, limit);
    const frame: PresenceFrame = { type: 'presence', room, users: page.map((member) => member.nickname), usersTotal: members.size, offset };
    if (this.identified) frame.userIds = page.map((member) => member.userId!);
    return frame;
  }

  /**
   * `member` arrived in `room` through `joiners` (its connections that are joining): they get the
   * join notification at once (it ends their join sequence). With `announce`, the room's other
   * members get it too in a small room, or as part of the next presence_diff in a large one; without
   * (a user's further connection, in a room that already has the user), nobody else does.
   */
  joined(member: Member, room: string, joiners: readonly Session[], announce = true): void {
    const frame = notification('join', room, member.nickname, member.userId);
    if (!announce || this.batched(room, this.roster.size(room))) {
      for (const session of joiners) session.send(frame);
      if (announce) this.batcher.joined(room, member.nickname, member.userId);
      return;
    }
    const data = this.publish(room, frame, member);
    for (const session of joiners) session.write(data);
  }

  /** Called once the leaver is out of the room. */
  left(member: Member, room: string): void {
    // The room size with the leaver, as for the join: the same threshold for both.
    if (this.batched(room, this.roster.size(room) + 1)) {
      this.batcher.left(room, member.nickname, member.userId);
      return;
    }
    this.publish(room, notification('leave', room, member.nickname, member.userId));
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

import { MAX_DIFF_NAMES, type PresenceDiffFrame } from '../protocol/frames';

/** One member's net change: +1 joined, -1 left; `userId` in jwt mode. */
interface Change {
  change: 1 | -1;
  nickname: string;
  userId?: string;
}

/**
 * A room's net presence change since the last flush, in the order recorded, keyed by nickname in
 * anonymous mode (where it is unique) and by user id in jwt mode (where nicknames are not).
 */
type Changes = Map<string, Change>;

export type PresenceDiff = Pick<PresenceDiffFrame, 'joins' | 'leaves' | 'joinsTotal' | 'leavesTotal' | 'joinIds' | 'leaveIds'>;

/**
 * Coalesces join and leave notifications of large rooms: each room gets at most one
 * `presence_diff` per interval, whatever the churn, so a reconnect storm into one room is
 * linear in frames instead of quadratic. Changes cancel out: a join then a leave of the same
 * name within one interval is no change at all. Each list names at most MAX_DIFF_NAMES, the
 * earliest recorded, so a diff is also bounded in bytes: otherwise N reconnecting clients would
 * cost N frames of N names each.
 */
export class PresenceBatcher {
  private readonly pending = new Map<string, Changes>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (room: string, diff: PresenceDiff) => void,
  ) {}

  /** `userId` in jwt mode: the diff then also lists ids (joinIds, leaveIds). */
  joined(room: string, nickname: string, userId?: string): void {
    this.change(room, { change: 1, nickname, userId });
  }

  left(room: string, nickname: string, userId?: string): void {
    this.change(room, { change: -1, nickname, userId });
  }

  /** Whether `room` has changes waiting: its next join or leave must wait with them, or clients would see them out of order. */
  isPending(room: string): boolean {
    return (this.pending.get(room)?.size ?? 0) > 0;
  }

  /**
   * Clients apply a nick_update to every list they hold, so changes pending under the old name
   * follow it, in every room: the diff then names people as the clients know them. The change is
   * recorded anew, last: keeping its place would cost a copy of the room's changes per rename.
   */
  renamed(previous: string, nickname: string): void {
    for (const [room, changes] of this.pending) {
      const change = changes.get(previous);
      if (change === undefined) continue;
      changes.delete(previous);
      this.change(room, { ...change, nickname });
    }
  }

  /** Sends every pending diff now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = [...this.pending];
    this.pending.clear();
    for (const [room, changes] of pending) if (changes.size > 0) this.emit(room, capped(changes));
  }

  /** Forgets everything pending, without sending it. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  private change(room: string, change: Change): void {
    let changes = this.pending.get(room);
    if (!changes) this.pending.set(room, (changes = new Map<string, Change>()));
    const key = change.userId ?? change.nickname;
    if (changes.get(key)?.change === -change.change) changes.delete(key);
    else changes.set(key, change);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }
}

function capped(changes: Changes): PresenceDiff {
  const diff: PresenceDiff = { joins: [], leaves: [], joinsTotal: 0, leavesTotal: 0 };
  for (const { change, nickname, userId } of changes.values()) {
    const joined = change === 1;
    const earlier = joined ? diff.joinsTotal++ : diff.leavesTotal++;
    if (earlier >= MAX_DIFF_NAMES) continue;
    (joined ? diff.joins : diff.leaves).push(nickname);
    if (userId !== undefined) (joined ? (diff.joinIds ??= []) : (diff.leaveIds ??= [])).push(userId);
  }
  if (diff.joinIds || diff.leaveIds) {
    diff.joinIds ??= [];
    diff.leaveIds ??= [];
  }
  return diff;
}

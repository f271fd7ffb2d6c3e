/** Above this many remembered senders in a room, the ones whose interval has passed are forgotten. */
const SWEEP_AT = 1024;

interface SlowRoom {
  intervalMs: number;
  ownerId: string | null;
  /** sender key -> when its last message was let through, epoch ms. */
  last: Map<string | number, number>;
  sweepAt: number;
}

/**
 * Rooms in slow mode, in memory: one message per sender per interval, checked on every message
 * with a map lookup (none at all for a room without slow mode). A sender is a user id in jwt
 * mode, a connection in anonymous mode (the hub's member: see ModerationService).
 */
export class SlowMode {
  private readonly rooms = new Map<string, SlowRoom>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Turns slow mode on (`seconds` > 0) or off (0) for the room. */
  set(room: string, seconds: number, ownerId: string | null): void {
    if (seconds <= 0) {
      this.rooms.delete(room);
      return;
    }
    const current = this.rooms.get(room);
    // Changing the interval keeps who sent when: a shorter one frees them sooner, a longer one later.
    this.rooms.set(room, { intervalMs: seconds * 1000, ownerId, last: current?.last ?? new Map<string | number, number>(), sweepAt: current?.sweepAt ?? SWEEP_AT });
  }

  has(room: string): boolean {
    return this.rooms.size > 0 && this.rooms.has(room);
  }

  secondsOf(room: string): number {
    return (this.rooms.get(room)?.intervalMs ?? 0) / 1000;
  }

  ownerOf(room: string): string | null | undefined {
    return this.rooms.get(room)?.ownerId;
  }

  /**
   * A message of `sender` in `room`: 0 when it may go (and it is counted), else how many ms until
   * it may. A refused message does not restart the interval.
   */
  take(room: string, sender: string | number): number {
    if (this.rooms.size === 0) return 0;
    const slow = this.rooms.get(room);
    if (slow === undefined) return 0;
    const now = this.now();
    const last = slow.last.get(sender);
    if (last !== undefined && now - last < slow.intervalMs) return slow.intervalMs - (now - last);
    slow.last.set(sender, now);
    if (slow.last.size > slow.sweepAt) this.sweep(slow, now);
    return 0;
  }

  /**
   * Cluster mode: `sender` had a message let through in `room` at `at` on another node, so its
   * interval runs here too. Two messages sent on two nodes within the bus's latency (a millisecond
   * or two) can both pass: the one approximation of slow mode across nodes.
   */
  record(room: string, sender: string, at: number): void {
    const slow = this.rooms.get(room);
    if (slow === undefined) return;
    const last = slow.last.get(sender);
    if (last === undefined || last < at) slow.last.set(sender, at);
  }

  /** Turns slow mode off in every room but these (a reload from the store). */
  keepOnly(rooms: ReadonlySet<string>): void {
    for (const room of this.rooms.keys()) if (!rooms.has(room)) this.rooms.delete(room);
  }

  /** Forgets senders whose interval has passed; sweeps again only once the map has doubled, so a sweep costs O(1) per message. */
  private sweep(slow: SlowRoom, now: number): void {
    for (const [sender, at] of slow.last) if (now - at >= slow.intervalMs) slow.last.delete(sender);
    slow.sweepAt = Math.max(SWEEP_AT, slow.last.size * 2);
  }
}

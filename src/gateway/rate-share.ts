import type { ClusterBus } from '../hub/cluster-bus';
import type { RateLimits } from './rate-limit';

/** The ClusterBus topic of users' frame spending. */
export const RATE_TOPIC = 'rate';

/**
 * How often a node tells the others what its users spent. The per-frame check stays a local map
 * lookup; the price is that a user flooding through two nodes at once can overspend by what it
 * sends in one interval (at most 100 ms' worth of frames) before the other node's bucket hears.
 */
export const SHARE_INTERVAL_MS = 100;

/**
 * The per-user rate limit across nodes (cluster mode, jwt mode): every SHARE_INTERVAL_MS each node
 * publishes the frames its users' buckets took, and every other node takes them from its bucket of
 * the same user. Each bucket refills at the user's rate, and all of them are drawn on by every
 * node's frames, so the user gets one budget however many nodes it is connected to. A node sends
 * nothing while no user of its sends anything.
 */
export class RateShare {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly bus: ClusterBus,
    private readonly limits: RateLimits,
  ) {
    bus.subscribe(RATE_TOPIC, (payload, from) => {
      if (from === bus.instanceId) return;
      for (const [userId, frames] of payload as Array<[string, number]>) limits.debit(userId, frames);
    });
    this.timer = setInterval(() => this.share(), SHARE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private share(): void {
    const spent = this.limits.spent();
    if (spent.length > 0) this.bus.publish(RATE_TOPIC, spent);
  }
}

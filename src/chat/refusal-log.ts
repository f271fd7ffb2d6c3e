/** How often one banned client's refusals are written to the audit log: once per minute at most. */
export const REFUSAL_AUDIT_INTERVAL_MS = 60_000;
/** Most clients remembered at once; beyond it, refusals of new clients go unaudited until the minute has passed. */
export const REFUSAL_AUDIT_CLIENTS = 10_000;

/**
 * Bounds the audit rows of ban refusals: a banned client hammering the handshake writes one row per
 * minute (per ban and address), and the memory this takes is bounded as well. Every refusal is
 * still counted in /metrics.
 */
export class RefusalLog {
  private readonly last = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this refusal is to be audited (and remembered as audited now). */
  shouldAudit(key: string): boolean {
    const now = this.now();
    const last = this.last.get(key);
    if (last !== undefined && now - last < REFUSAL_AUDIT_INTERVAL_MS) return false;
    if (last === undefined && this.last.size >= REFUSAL_AUDIT_CLIENTS) {
      for (const [k, at] of this.last) if (now - at >= REFUSAL_AUDIT_INTERVAL_MS) this.last.delete(k);
      if (this.last.size >= REFUSAL_AUDIT_CLIENTS) return false;
    }
    this.last.set(key, now);
    return true;
  }
}

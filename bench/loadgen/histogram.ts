export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const FINE_STEP_MS = 0.01; // 10 µs buckets below FINE_MAX_MS
const FINE_MAX_MS = 250;
const COARSE_MAX_MS = 120_000; // 1 ms buckets above, up to here
const FINE = Math.round(FINE_MAX_MS / FINE_STEP_MS);
const COARSE = COARSE_MAX_MS - FINE_MAX_MS;

/** Latencies in ms with constant memory at any rate: 10 µs resolution to 250 ms, 1 ms to 120 s. */
export class Histogram {
  private readonly counts = new Uint32Array(FINE + COARSE + 1);
  private n = 0;
  private sum = 0;
  private top = 0;

  get count(): number {
    return this.n;
  }

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i = v < FINE_MAX_MS ? Math.floor(v / FINE_STEP_MS) : Math.min(FINE + Math.floor(v - FINE_MAX_MS), FINE + COARSE);
    this.counts[i]++;
    this.n++;
    this.sum += v;
    if (v > this.top) this.top = v;
  }

  /** The upper edge of the bucket holding the p-th percentile (never above the max seen). */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const edge = i < FINE ? (i + 1) * FINE_STEP_MS : FINE_MAX_MS + (i - FINE + 1);
        return Math.min(edge, this.top);
      }
    }
    return this.top;
  }

  summary(): LatencySummary {
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      count: this.n,
      mean: r(this.n ? this.sum / this.n : 0),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: r(this.top),
    };
  }
}

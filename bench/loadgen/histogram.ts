import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Values are kept in µs: Node's histogram records integers of at least 1. */
const US_PER_MS = 1000;

/**
 * Latencies in ms, on Node's own HdrHistogram (`perf_hooks.createHistogram`, 3 significant digits,
 * constant memory at any rate).
 */
export class Histogram {
  private readonly h: RecordableHistogram = createHistogram();

  get count(): number {
    return this.h.count;
  }

  record(ms: number): void {
    this.h.record(Math.max(1, Math.round(ms * US_PER_MS)));
  }

  percentile(p: number): number {
    return this.h.count === 0 ? 0 : this.h.percentile(p) / US_PER_MS;
  }

  summary(): LatencySummary {
    const r = (x: number) => Math.round(x * 100) / 100;
    const empty = this.h.count === 0;
    return {
      count: this.h.count,
      mean: r(empty ? 0 : this.h.mean / US_PER_MS),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: r(empty ? 0 : this.h.max / US_PER_MS),
    };
  }
}

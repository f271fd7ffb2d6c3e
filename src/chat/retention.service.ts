import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { SYSTEM_ACTOR } from '../protocol/audit';
import { AuditStore } from '../store/audit-store.service';
import { RetentionStore, type RetentionScope } from '../store/retention-store.service';

const DAY_MS = 86_400_000;

/** What one retention run deleted. */
export interface RetentionReport {
  /** Room messages deleted, per room (rooms where nothing was deleted are left out). */
  rooms: Record<string, number>;
  roomMessages: number;
  directMessages: number;
  durationMs: number;
}

/**
 * The retention job: every RETENTION_INTERVAL_MS, and on request (POST /api/admin/retention/run),
 * deletes the messages older than their room's retention (a room's own setting, else
 * RETENTION_DAYS) and the direct messages older than RETENTION_DAYS. One bounded batch per
 * transaction on the shared StoreDatabase, yielding to the event loop between batches, so the
 * group commit and every read take their turns. Counted in /metrics; one audit row per run.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private readonly days: number | undefined;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionReport | null> | null = null;
  private stopping = false;

  constructor(
    private readonly store: RetentionStore,
    private readonly audit: AuditStore,
    private readonly metrics: ChatMetrics,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    // Unset, ConfigService falls back to the raw environment, where an empty value means unset too.
    const days: unknown = config.get('RETENTION_DAYS', { infer: true });
    this.days = typeof days === 'number' ? days : undefined;
    this.intervalMs = config.get('RETENTION_INTERVAL_MS', { infer: true });
  }

  onApplicationBootstrap(): void {
    // Not at startup: a restart loop must not become a deletion loop; the first run is one interval in.
    this.timer = setInterval(() => void this.scheduled(), this.intervalMs).unref();
  }

  /** The run in progress stops after its current batch, before the store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * A run on request, by `actor` (audited as theirs). Waits for a run in progress to end first, so
   * what it reports is its own. Rejects with StoreUnavailableError when the store refuses a batch.
   */
  async runNow(actor: string): Promise<RetentionReport> {
    while (this.running) await this.running.catch(() => undefined);
    const report = await this.start(actor, true);
    return report ?? { rooms: {}, roomMessages: 0, directMessages: 0, durationMs: 0 };
  }

  private async scheduled(): Promise<void> {
    if (this.running || this.stopping) return;
    // A failure was counted, logged and audited by the run; the next interval tries again.
    await this.start(SYSTEM_ACTOR, false).catch(() => undefined);
  }

  private start(actor: string, requested: boolean): Promise<RetentionReport | null> {
    const run = this.run(actor, requested).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Null when nothing is configured to expire and the run was not requested: no batch, no audit row. */
  private async run(actor: string, requested: boolean): Promise<RetentionReport | null> {
    const started = performance.now();
    const now = Date.now();
    const plan: Array<[RetentionScope, string]> = [];
    for (const { room, days } of await this.store.rooms()) {
      const keep = days ?? this.days;
      if (keep !== undefined) plan.push([{ room }, cutoff(now, keep)]);
    }
    if (this.days !== undefined) plan.push(['direct', cutoff(now, this.days)]);
    if (plan.length === 0 && !requested) return null;
    const report: RetentionReport = { rooms: {}, roomMessages: 0, directMessages: 0, durationMs: 0 };
    try {
      for (const [scope, before] of plan) await this.purge(scope, before, report);
    } catch (error) {
      await this.finish(report, started, 'failed', actor, `failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    await this.finish(report, started, 'ok', actor, this.stopping ? 'stopped by shutdown' : undefined);
    return report;
  }

  /** Deletes `scope`'s rows older than `before`, a batch at a time, until none is left or the server stops. */
  private async purge(scope: RetentionScope, before: string, report: RetentionReport): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const { deleted, done } = await this.store.purgeBatch(scope, before);
      if (deleted > 0) {
        if (scope === 'direct') {
          report.directMessages += deleted;
          this.metrics.retentionDeleted.inc({ kind: 'direct' }, deleted);
        } else {
          report.roomMessages += deleted;
          report.rooms[scope.room] = (report.rooms[scope.room] ?? 0) + deleted;
          this.metrics.retentionDeleted.inc({ kind: 'room' }, deleted);
        }
      }
      if (done) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Counts the run and writes its audit row (awaited, so a requested run's row is there when it answers). */
  private async finish(report: RetentionReport, started: number, outcome: 'ok' | 'failed', actor: string, note?: string): Promise<void> {
    report.durationMs = Math.round(performance.now() - started);
    this.metrics.retentionRuns.inc({ outcome });
    this.metrics.retentionLastRunSeconds.set(report.durationMs / 1000);
    const reason = describe(report, this.days) + (note ? `; ${note}` : '');
    if (outcome === 'ok') this.logger.log({ msg: 'retention run', reason });
    else this.logger.warn({ msg: 'retention run failed', reason });
    await this.audit.record({ actor, action: 'retention_run', reason }).catch((error: unknown) => this.logger.warn({ msg: 'audit row not written', action: 'retention_run', err: error }));
  }
}

function cutoff(now: number, days: number): string {
  return new Date(now - days * DAY_MS).toISOString();
}

/** The audit row's reason: what was deleted where, how long it took, under which setting. */
function describe({ rooms, roomMessages, directMessages, durationMs }: RetentionReport, days: number | undefined): string {
  const perRoom = Object.entries(rooms)
    .map(([room, n]) => `${room} ${n}`)
    .join(', ');
  return (
    `deleted ${roomMessages} room message(s)${perRoom ? ` (${perRoom})` : ''} and ${directMessages} direct message(s) in ${durationMs} ms; ` +
    `RETENTION_DAYS ${days ?? 'unset'}`
  );
}

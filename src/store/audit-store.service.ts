import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { AuditAction, AuditRecord } from '../protocol/audit';
import { StoreDatabase } from './store-database';

/** One audit row to write; `at` defaults to now. */
export interface AuditEntry {
  actor: string | null;
  action: AuditAction;
  target?: string | null;
  room?: string | null;
  reason?: string | null;
  address?: string | null;
  at?: Date;
}

export interface AuditQuery {
  /** Rows with an id below this one (the previous page's last id). */
  before?: number;
  limit: number;
  actor?: string;
  action?: AuditAction;
}

/** Rows queued beyond this many (a flood of failed sign-ins while the store is slow) are dropped and counted. */
export const AUDIT_QUEUE_LIMIT = 10_000;
/** Longest reason kept, in characters. */
const MAX_REASON = 1000;

const INSERT = 'INSERT INTO audit_log (at, actor, action, target, room, reason, address) VALUES (?, ?, ?, ?, ?, ?, ?)';
const COLUMNS = 'id, at, actor, action, target, room, reason, address';

interface Pending {
  values: unknown[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The audit log. `record` queues a row; every row queued in one turn of the event loop is written
 * in one transaction (a flood of failed sign-ins costs one commit per turn, not one per attempt),
 * and the promise settles after the commit. The log is append-only through the API.
 */
@Injectable()
export class AuditStore implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditStore.name);
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** Rows dropped because the queue was full; see AUDIT_QUEUE_LIMIT. */
  dropped = 0;

  constructor(private readonly database: StoreDatabase) {}

  /** Writes one row; resolves after its commit, rejects with StoreUnavailableError (or when dropped). */
  record(entry: AuditEntry): Promise<void> {
    if (this.queue.length >= AUDIT_QUEUE_LIMIT) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.logger.warn({ msg: 'audit rows dropped: the queue is full', dropped: this.dropped });
      return Promise.reject(new Error('audit queue full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ values: rowValues(entry), resolve, reject });
      this.flushing ??= new Promise<void>((done) => setImmediate(done)).then(() => this.flush());
    });
  }

  /** Like `record`, for callers that do not wait: a failure is logged, never thrown. */
  note(entry: AuditEntry): void {
    this.record(entry).catch((error: unknown) => this.logger.warn({ msg: 'audit row not written', action: entry.action, err: error }));
  }

  /** Newest first. */
  page({ before, limit, actor, action }: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (before !== undefined) {
      where.push('id < ?');
      params.push(before);
    }
    if (actor !== undefined) {
      where.push('actor = ?');
      params.push(actor);
    }
    if (action !== undefined) {
      where.push('action = ?');
      params.push(action);
    }
    const sql = `SELECT ${COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.database.read(async (runner) => (await runner.query(sql, [...params, limit])) as AuditRecord[]);
  }

  /** Waits for every queued row. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Before the database closes (MessageStore's onApplicationShutdown): the rows already queued are written. */
  beforeApplicationShutdown(): Promise<void> {
    return this.drain();
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.database.write('writing the audit log', async (runner) => {
        for (const row of batch) await runner.query(INSERT, row.values);
      });
      for (const row of batch) row.resolve();
    } catch (error) {
      for (const row of batch) row.reject(error);
    } finally {
      this.flushing = this.queue.length > 0 ? new Promise<void>((done) => setImmediate(done)).then(() => this.flush()) : null;
    }
  }
}

function rowValues(entry: AuditEntry): unknown[] {
  const reason = entry.reason == null ? null : entry.reason.slice(0, MAX_REASON);
  return [(entry.at ?? new Date()).toISOString(), entry.actor, entry.action, entry.target ?? null, entry.room ?? null, reason, entry.address ?? null];
}

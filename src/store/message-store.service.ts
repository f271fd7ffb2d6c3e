import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { defaultErrorMessage, ErrorCode } from '../protocol/error-code';
import type { DirectMessageRecord, MessageRecord } from '../protocol/frames';
import { DatabaseFiles } from './database-files';
import {
  MAX_BATCH,
  NEWEST_SINCE,
  PAGE_AFTER,
  PAGE_BEFORE,
  PAGE_BETWEEN,
  PAGE_NEWEST,
  pageRows,
  PROBE,
  ROOMS,
  writeBatch,
  type Append,
  type WrittenBatch,
} from './message-sql';
import { isBusy, sqliteCode, StoreConnection, type TransactionChecks } from './store-connection';
import { StoreHealth, type StoreStatus } from './store-health';

export interface NewMessage {
  room: string;
  nickname: string;
  body: string;
  clientMsgId?: string;
}

export interface NewDirectMessage {
  from: string;
  to: string;
  body: string;
  clientMsgId?: string;
}

export interface PageQuery {
  room: string;
  limit: number;
  before?: number;
  after?: number;
}

/** A committed message; `duplicate` when its clientMsgId had already been stored (nothing new was written). */
export interface Stored<R> {
  record: R;
  duplicate: boolean;
}

/** Rows of one room, oldest first; `hasMore` when more lie beyond them in the paging direction. */
export interface MessagePage {
  messages: MessageRecord[];
  hasMore: boolean;
}

export interface StoredRoom {
  name: string;
  lastMessageId: number;
}

export const STORE_OPTIONS = Symbol('STORE_OPTIONS');

export interface StoreOptions {
  /** How long a call waits for a lock held by another process (STORE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs: number;
  /** How often the files are checked and, while writes fail, a probe write is tried. */
  checkIntervalMs: number;
}

const DEFAULT_OPTIONS: StoreOptions = { busyTimeoutMs: 5000, checkIntervalMs: 1000 };

/** The database could not take or give messages; nothing was stored. Clients are told UNAVAILABLE. */
export class StoreUnavailableError extends ChatException {
  constructor(cause: unknown) {
    super(ErrorCode.UNAVAILABLE, defaultErrorMessage(ErrorCode.UNAVAILABLE), { cause });
    this.name = StoreUnavailableError.name;
  }

  /** `error` itself if it is one, else a StoreUnavailableError caused by it. */
  static from(error: unknown): StoreUnavailableError {
    return error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
  }
}

/** `at`: when the append was made; it waits for another process's lock at most busyTimeoutMs from then. */
type Pending = Append & { at: number; reject: (e: StoreUnavailableError) => void };

/**
 * The write path and paging over stored messages, on TypeORM's query runner.
 *
 * Writes use group commit: every append that arrives while the event loop is busy joins the next
 * transaction, so a burst costs one commit instead of one per message. Promises resolve in commit
 * order, after the commit, which is what lets callers broadcast in id order.
 *
 * No call blocks the event loop waiting for a lock (see StoreConnection), and none acknowledges a
 * commit that went into files removed or replaced meanwhile (see DatabaseFiles). status() says
 * whether writes succeed, for readiness.
 */
@Injectable()
export class MessageStore implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MessageStore.name);
  private readonly options: StoreOptions;
  private readonly connection: StoreConnection;
  private readonly health: StoreHealth;
  // Before BEGIN only the -shm must be checked (SIGBUS); after COMMIT, before any ack, all the files.
  private readonly checks: TransactionChecks = { before: () => this.assertFiles(true), after: () => this.assertFiles() };
  private files: DatabaseFiles | null = null;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: ChatMetrics,
    @Optional() @Inject(STORE_OPTIONS) options?: Partial<StoreOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.connection = new StoreConnection(dataSource, this.options.busyTimeoutMs, () => metrics.storeLockWaits.inc());
    this.health = new StoreHealth(this.logger, metrics.storeWritable);
  }

  /**
   * Switches the connection to non-blocking lock waits, records the database files and proves with
   * one write that the database takes writes: the server does not start when it cannot store.
   */
  async onModuleInit(): Promise<void> {
    // SQLite's busy handler would sleep on the event loop; the store waits with timers instead.
    await this.connection.read((runner) => runner.query('PRAGMA busy_timeout = 0'));
    const { type, database } = this.dataSource.options;
    if (type === 'better-sqlite3' && database !== ':memory:') {
      this.files = new DatabaseFiles(database);
      this.files.snapshot();
      this.files.watch(() => this.checkFiles(true));
    }
    try {
      await this.probe();
    } catch (error) {
      throw new Error(`the message store cannot write: ${this.describe(error)}${this.files ? `; ${this.files.diagnose()}` : ''}`, {
        cause: error,
      });
    }
    this.timer = setInterval(() => void this.tick(), this.options.checkIntervalMs).unref();
  }

  onApplicationShutdown(): void {
    this.stopChecks();
  }

  /**
   * Stores a room message; resolves once it is committed, with its id. A message whose
   * (room, clientMsgId) is already stored is not stored again: the original comes back.
   */
  append(message: NewMessage): Promise<Stored<MessageRecord>> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'room', message, at: Date.now(), resolve, reject }));
  }

  /** Stores a direct message, idempotent per (sender, clientMsgId) like append(). */
  appendDirect(message: NewDirectMessage): Promise<Stored<DirectMessageRecord>> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'direct', message, at: Date.now(), resolve, reject }));
  }

  /** Waits until every append made so far has been committed or rejected. */
  async drain(): Promise<void> {
    while (this.flushing) {
      await this.flushing;
    }
  }

  /** Refuses new appends and flushes the ones already accepted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    this.stopChecks();
  }

  /** Whether the store takes writes: the last write or probe succeeded and its files are intact. */
  status(): StoreStatus {
    if (!this.dataSource.isInitialized) return { writable: false, reason: 'the database is closed' };
    this.checkFiles();
    return this.health.status;
  }

  /**
   * Keyset paging: newest first from `before` (or the end), or oldest first from `after`;
   * with both, the oldest `limit` of the window. Returned oldest first.
   */
  async page({ room, limit, before, after }: PageQuery): Promise<MessagePage> {
    const result = await this.read<unknown>((runner) =>
      after !== undefined && before !== undefined
        ? runner.query(PAGE_BETWEEN, [room, after, before, limit + 1])
        : after !== undefined
          ? runner.query(PAGE_AFTER, [room, after, limit + 1])
          : before !== undefined
            ? runner.query(PAGE_BEFORE, [room, before, limit + 1])
            : runner.query(PAGE_NEWEST, [room, limit + 1]),
    );
    const { rows, hasMore } = pageRows(result, room, limit, after === undefined);
    return { messages: rows, hasMore };
  }

  /**
   * The newest `limit` messages of `room` with an id above `after`, oldest first; `hasMore`
   * when older ones above `after` were left out (a resume gap).
   */
  async newestSince(room: string, after: number, limit: number): Promise<MessagePage> {
    const result = await this.read<unknown>((runner) => runner.query(NEWEST_SINCE, [room, after, limit + 1]));
    const { rows, hasMore } = pageRows(result, room, limit, true);
    return { messages: rows, hasMore };
  }

  /** Every room that has messages, with its newest message id. */
  rooms(): Promise<StoredRoom[]> {
    return this.read<StoredRoom[]>((runner) => runner.query(ROOMS));
  }

  private read<T>(query: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const lost = this.health.lostFiles;
    // Not even a read may touch a connection whose files were lost (a truncated -shm is a SIGBUS).
    if (lost !== null) return Promise.reject(new StoreUnavailableError(new Error(lost)));
    return this.connection.read(query).catch((error: unknown) => {
      throw new StoreUnavailableError(error);
    });
  }

  private enqueue(pending: Pending): void {
    const refused = this.closed ? 'store is shut down' : this.health.lostFiles;
    if (refused !== null) {
      pending.reject(new StoreUnavailableError(new Error(refused)));
      return;
    }
    this.queue.push(pending);
    this.flushing ??= this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Yield once so that frames already waiting in the event loop join this batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await this.commit(this.queue.splice(0, MAX_BATCH));
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const stopTimer = this.metrics.storeWriteSeconds.startTimer();
    let written: WrittenBatch;
    try {
      written = await this.connection.transaction((runner) => writeBatch(runner, batch), this.checks, batch[0].at);
    } catch (error) {
      this.health.writeFailed(`group commit of ${batch.length} message(s) failed: ${this.describe(error)}`, this.files?.diagnose());
      const failure = new StoreUnavailableError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    stopTimer();
    this.metrics.storeBatchSize.observe(batch.length);
    this.metrics.messagesStored.inc(written.stored);
    this.health.writeSucceeded();
    written.acknowledge();
  }

  /** One committed write to a row of its own, to learn whether the database takes writes. */
  private probe(): Promise<void> {
    return this.connection.transaction(async (runner) => {
      await runner.query(PROBE, [new Date().toISOString()]);
    }, this.checks);
  }

  /** Every checkIntervalMs: the files, and while writes fail (and no client writes), a probe. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      if (this.checkFiles() && this.health.failing) {
        await this.probe().then(
          () => this.health.writeSucceeded(),
          (error: unknown) => this.health.writeFailed(`probe write failed: ${this.describe(error)}`),
        );
      }
    } finally {
      this.ticking = false;
    }
  }

  /** False once the database files were removed, replaced or truncated (then they stay lost). */
  private checkFiles(shmOnly = false): boolean {
    if (this.health.lostFiles !== null) {
      this.files?.keepShmMapped();
      return false;
    }
    const problem = this.files?.verify(shmOnly);
    if (!problem) return true;
    this.health.filesLost(problem.reason);
    return false;
  }

  private assertFiles(shmOnly = false): void {
    if (!this.checkFiles(shmOnly)) throw new Error(this.health.lostFiles ?? 'database files lost');
  }

  private stopChecks(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.files?.unwatch();
  }

  private describe(error: unknown): string {
    if (isBusy(error)) return `the database stayed locked by another process for ${this.options.busyTimeoutMs} ms (${sqliteCode(error)})`;
    const code = sqliteCode(error);
    const driverMessage = (error as { driverError?: { message?: unknown } } | null)?.driverError?.message;
    const message = typeof driverMessage === 'string' ? driverMessage : error instanceof Error ? error.message : String(error);
    return code && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
}

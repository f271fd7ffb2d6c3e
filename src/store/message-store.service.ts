import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import type { DirectMessageRecord, MessageRecord } from '../protocol/frames';
import {
  MAX_BATCH,
  PAGES,
  pageRows,
  ROOMS,
  writeBatch,
  type Append,
} from './message-sql';
import { NO_FENCE, PUBLISH_FENCE, type PublishFence } from './publish-fence';
import type { RoomVisibility } from './room.entity';
import { STORE_OPTIONS, StoreDatabase, StoreUnavailableError, type StoreOptions } from './store-database';
import type { StoreStatus } from './store-health';

// Where they always were, for the code that imports them from here.
export { STORE_OPTIONS, StoreUnavailableError, type StoreOptions };

export interface NewMessage {
  room: string;
  nickname: string;
  body: string;
  clientMsgId?: string;
  /** The sender's user id (jwt mode). */
  userId?: string;
}

export interface NewDirectMessage {
  from: string;
  to: string;
  body: string;
  clientMsgId?: string;
  /** The sender's user id (jwt mode): the DM is then idempotent per (fromId, clientMsgId), else per (from, clientMsgId). */
  fromId?: string;
  /** The recipient's user id (jwt mode): what dmsSince, undeliveredDms and conversations find it by. */
  toId?: string;
  /** The recipient is online and gets it live: its delivery cursor (toId's) moves to this DM in the same commit. */
  delivered?: boolean;
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
  /** Null for a created room without messages. */
  lastMessageId: number | null;
  visibility: RoomVisibility;
  /** Who created it (create_room); null for a room that came into being by its first message. */
  ownerId: string | null;
  /** When it was created (create_room), ISO 8601 UTC; null otherwise. */
  createdAt: string | null;
}

/** `at`: when the append was made; it waits for another process's lock at most busyTimeoutMs from then. */
type Pending = Append & { at: number; reject: (e: StoreUnavailableError) => void };

/**
 * The write path and paging over stored messages, on TypeORM's query runner.
 *
 * Writes use group commit: every append that arrives while the event loop is busy joins the next
 * transaction, so a burst costs one commit instead of one per message. Promises resolve in commit
 * order, after the commit, which is what lets callers broadcast in id order. Room messages and
 * direct messages are rows of one table, so they share one id sequence.
 *
 * It owns the StoreDatabase that every store class shares (`database`): no call blocks the event
 * loop waiting for a lock, and none acknowledges a commit that went into files removed or replaced
 * meanwhile. status() says whether writes succeed, for readiness.
 */
@Injectable()
export class MessageStore implements OnModuleInit, OnApplicationShutdown {
  /** The database connection, health and file checks every store class shares. */
  readonly database: StoreDatabase;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;

  private readonly logger = new Logger(MessageStore.name);

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly metrics: ChatMetrics,
    @Optional() @Inject(STORE_OPTIONS) options?: Partial<StoreOptions>,
    @Optional() @Inject(PUBLISH_FENCE) private readonly fence: PublishFence = NO_FENCE,
  ) {
    this.database = new StoreDatabase(dataSource, metrics, options, this.logger);
  }

  /** Opens the shared database: non-blocking lock waits, file checks, and one write proving it takes writes. */
  onModuleInit(): Promise<void> {
    return this.database.open();
  }

  onApplicationShutdown(): void {
    this.database.stop();
  }

  /**
   * Stores a room message; resolves once it is committed, with its id. A message whose
   * (room, clientMsgId) is already stored is not stored again: the original comes back.
   */
  append(message: NewMessage): Promise<Stored<MessageRecord>> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'room', message, at: Date.now(), resolve, reject }));
  }

  /**
   * Stores a direct message in the same sequence as room messages, idempotent per (sender,
   * clientMsgId) like append(); with `delivered`, also moves the recipient's delivery cursor.
   */
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
    this.database.stop();
  }

  /** Whether the store takes writes: the last write or probe succeeded and its files are intact. */
  status(): StoreStatus {
    return this.database.status();
  }

  /**
   * Keyset paging: newest first from `before` (or the end), or oldest first from `after`;
   * with both, the oldest `limit` of the window. Returned oldest first.
   */
  async page({ room, limit, before, after }: PageQuery): Promise<MessagePage> {
    const pages = PAGES[this.database.dialect];
    const result = await this.database.read<unknown>((runner) =>
      after !== undefined && before !== undefined
        ? runner.query(pages.between, [room, after, before, limit + 1])
        : after !== undefined
          ? runner.query(pages.after, [room, after, limit + 1])
          : before !== undefined
            ? runner.query(pages.before, [room, before, limit + 1])
            : runner.query(pages.newest, [room, limit + 1]),
    );
    const { rows, hasMore } = pageRows(result, room, limit, after === undefined);
    return { messages: rows, hasMore };
  }

  /**
   * The newest `limit` messages of `room` with an id above `after`, oldest first; `hasMore`
   * when older ones above `after` were left out (a resume gap).
   */
  async newestSince(room: string, after: number, limit: number): Promise<MessagePage> {
    const result = await this.database.read<unknown>((runner) => runner.query(PAGES[this.database.dialect].newestSince, [room, after, limit + 1]));
    const { rows, hasMore } = pageRows(result, room, limit, true);
    return { messages: rows, hasMore };
  }

  /** Every room that has messages or was created, with its newest message id, visibility and owner. */
  rooms(): Promise<StoredRoom[]> {
    return this.database.read<StoredRoom[]>((runner) => runner.query(ROOMS));
  }

  private enqueue(pending: Pending): void {
    const refused = this.closed ? 'store is shut down' : this.database.refusal;
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
    try {
      await this.database.transaction((runner) => writeBatch(runner, batch, this.database.dialect), batch[0].at, {
        // On PostgreSQL, under the order lock until the batch is acknowledged and its publishes settled.
        ordered: true,
        committed: async (written) => {
          stopTimer();
          this.metrics.storeBatchSize.observe(batch.length);
          this.metrics.messagesStored.inc(written.stored);
          this.database.writeSucceeded();
          written.acknowledge();
          await this.settlePublishes();
        },
      });
    } catch (error) {
      const failure = this.database.writeFailed(`group commit of ${batch.length} message(s) failed`, error);
      for (const pending of batch) pending.reject(failure);
    }
  }

  /**
   * After the acknowledgements (whose continuations publish the batch's messages): one turn of the
   * event loop lets those continuations run, then the fence says when the broker has handed the
   * publishes on. A fence failure is logged: the messages are stored and acknowledged already.
   */
  private async settlePublishes(): Promise<void> {
    if (this.fence === NO_FENCE) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Bounded: a broker that never answers must not keep every node's writes behind the order lock.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      const ms = this.database.options.fenceTimeoutMs;
      timer = setTimeout(() => reject(new Error(`publish fence not settled after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.fence.settle(), timeout]);
    } catch (error) {
      this.logger.warn({ msg: 'publish fence failed: later messages may reach other nodes before these', err: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

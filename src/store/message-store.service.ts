import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Database, Statement } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { ChatException } from '../protocol/chat.exception';
import { defaultErrorMessage, ErrorCode } from '../protocol/error-code';
import type { DirectMessageRecord, MessageRecord } from '../protocol/frames';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { RoomEntity } from './room.entity';

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

type Reject = (e: StoreUnavailableError) => void;
type Pending =
  | { kind: 'room'; message: NewMessage; resolve: (stored: Stored<MessageRecord>) => void; reject: Reject }
  | { kind: 'direct'; message: NewDirectMessage; resolve: (stored: Stored<DirectMessageRecord>) => void; reject: Reject };

/**
 * A paging statement's row, in MESSAGE_COLUMNS order. Those statements are `raw`: building a named
 * object per row in better-sqlite3 was 40% of reading a 50-row page.
 */
type MessageTuple = [id: number, room: string, nickname: string, body: string, sentAt: string, clientMsgId: string | null];

interface Statements {
  pageNewest: Statement;
  pageBefore: Statement;
  pageAfter: Statement;
  pageBetween: Statement;
  newestSince: Statement;
  insertMessage: Statement;
  findMessage: Statement;
  insertDirect: Statement;
  findDirect: Statement;
  touchRoom: Statement;
}

/** What the write transaction produced for one pending append. */
type Written = { id: number; sentAt: string; duplicate: false } | { row: Record<string, unknown>; duplicate: true };

/** Most rows one transaction takes; a larger backlog is written in several. */
const MAX_BATCH = 512;

/**
 * The write path and paging over stored messages.
 *
 * Writes use group commit: every append that arrives while the event loop is busy joins
 * the next transaction, so a burst costs one commit instead of one per message. Promises
 * resolve in commit order, after the commit, which is what lets callers broadcast in id order.
 */
@Injectable()
export class MessageStore {
  private readonly logger = new Logger(MessageStore.name);
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private statements: Statements | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: ChatMetrics,
  ) {}

  /**
   * Stores a room message; resolves once it is committed, with its id. A message whose
   * (room, clientMsgId) is already stored is not stored again: the original comes back.
   */
  append(message: NewMessage): Promise<Stored<MessageRecord>> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'room', message, resolve, reject }));
  }

  /** Stores a direct message, idempotent per (sender, clientMsgId) like append(). */
  appendDirect(message: NewDirectMessage): Promise<Stored<DirectMessageRecord>> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'direct', message, resolve, reject }));
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
  }

  /**
   * Keyset paging: newest first from `before` (or the end), or oldest first from `after`;
   * with both, the oldest `limit` of the window. Returned oldest first. Each variant is one
   * prepared statement over the (room, id) index: an index range scan, no entity hydration.
   */
  async page({ room, limit, before, after }: PageQuery): Promise<MessagePage> {
    const ascending = after !== undefined;
    const rows = await this.readPage((s) =>
      after !== undefined && before !== undefined
        ? s.pageBetween.all(room, after, before, limit + 1)
        : after !== undefined
          ? s.pageAfter.all(room, after, limit + 1)
          : before !== undefined
            ? s.pageBefore.all(room, before, limit + 1)
            : s.pageNewest.all(room, limit + 1),
    );
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!ascending) {
      page.reverse();
    }
    return { messages: page.map(fromTuple), hasMore };
  }

  /**
   * The newest `limit` messages of `room` with an id above `after`, oldest first; `hasMore`
   * when older ones above `after` were left out (a resume gap).
   */
  async newestSince(room: string, after: number, limit: number): Promise<MessagePage> {
    const rows = await this.readPage((s) => s.newestSince.all(room, after, limit + 1));
    const page = rows.slice(0, limit).reverse();
    return { messages: page.map(fromTuple), hasMore: rows.length > limit };
  }

  /** Every room that has messages, with its newest message id. */
  async rooms(): Promise<StoredRoom[]> {
    const rows = await this.read(() => this.dataSource.getRepository(RoomEntity).find());
    return rows.map(({ name, lastMessageId }) => ({ name, lastMessageId }));
  }

  private async read<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  /** A synchronous page read on the shared connection, mapped like every store failure. */
  private readPage(query: (s: Statements) => unknown[]): Promise<MessageTuple[]> {
    return this.read(() => Promise.resolve(query((this.statements ??= prepare(this.database()))) as MessageTuple[]));
  }

  private enqueue(pending: Pending): void {
    if (this.closed) {
      pending.reject(new StoreUnavailableError(new Error('store is shut down')));
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
        this.commit(this.queue.splice(0, MAX_BATCH));
      }
    } finally {
      this.flushing = null;
    }
  }

  private commit(batch: Pending[]): void {
    const sentAt = new Date().toISOString();
    let written: Written[];
    const stopTimer = this.metrics.storeWriteSeconds.startTimer();
    try {
      written = this.writeBatch(batch, sentAt);
      stopTimer();
      this.metrics.storeBatchSize.observe(batch.length);
      this.metrics.messagesStored.inc(written.filter((w) => !w.duplicate).length);
    } catch (error) {
      this.statements = null;
      this.logger.error(`group commit of ${batch.length} message(s) failed: ${String(error)}`);
      const failure = new StoreUnavailableError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    batch.forEach((pending, i) => {
      const result = written[i];
      const clientMsgId = pending.message.clientMsgId ?? null;
      if (pending.kind === 'room') {
        const { room, nickname, body } = pending.message;
        pending.resolve(
          result.duplicate
            ? { record: result.row as unknown as MessageRecord, duplicate: true }
            : { record: { id: result.id, room, nickname, body, sentAt, clientMsgId }, duplicate: false },
        );
      } else {
        const { from, to, body } = pending.message;
        pending.resolve(
          result.duplicate
            ? { record: result.row as unknown as DirectMessageRecord, duplicate: true }
            : { record: { id: result.id, sender: from, recipient: to, body, sentAt, clientMsgId }, duplicate: false },
        );
      }
    });
  }

  /**
   * One synchronous SQLite transaction: nothing else can run on the shared connection
   * between BEGIN and COMMIT, so no reader ever sees a row that might still roll back.
   */
  private writeBatch(batch: Pending[], sentAt: string): Written[] {
    const db = this.database();
    const s = (this.statements ??= prepare(db));
    return db.transaction(() => {
      const lastIdByRoom = new Map<string, number>();
      const written = batch.map((pending): Written => {
        const clientMsgId = pending.message.clientMsgId ?? null;
        if (pending.kind === 'direct') {
          const { from, to, body } = pending.message;
          const { changes, lastInsertRowid } = s.insertDirect.run(from, to, body, sentAt, clientMsgId);
          if (changes === 0) return { row: s.findDirect.get(from, clientMsgId) as Record<string, unknown>, duplicate: true };
          return { id: Number(lastInsertRowid), sentAt, duplicate: false };
        }
        const { room, nickname, body } = pending.message;
        const { changes, lastInsertRowid } = s.insertMessage.run(room, nickname, body, sentAt, clientMsgId);
        if (changes === 0) return { row: s.findMessage.get(room, clientMsgId) as Record<string, unknown>, duplicate: true };
        lastIdByRoom.set(room, Number(lastInsertRowid));
        return { id: Number(lastInsertRowid), sentAt, duplicate: false };
      });
      for (const [room, id] of lastIdByRoom) s.touchRoom.run(room, id);
      return written;
    })();
  }

  private database(): Database {
    if (!this.dataSource.isInitialized) {
      throw new Error('data source is not initialized');
    }
    return (this.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  }
}

const MESSAGE_COLUMNS = 'SELECT id, room, nickname, body, sent_at AS sentAt, client_msg_id AS clientMsgId FROM messages';

function prepare(db: Database): Statements {
  return {
    pageNewest: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? ORDER BY id DESC LIMIT ?`).raw(),
    pageBefore: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?`).raw(),
    pageAfter: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? AND id > ? ORDER BY id ASC LIMIT ?`).raw(),
    pageBetween: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? AND id > ? AND id < ? ORDER BY id ASC LIMIT ?`).raw(),
    newestSince: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? AND id > ? ORDER BY id DESC LIMIT ?`).raw(),
    // A resend (same clientMsgId) hits the unique index and inserts nothing: changes === 0.
    insertMessage: db.prepare(
      'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (room, client_msg_id) DO NOTHING',
    ),
    findMessage: db.prepare(`${MESSAGE_COLUMNS} WHERE room = ? AND client_msg_id = ?`),
    insertDirect: db.prepare(
      'INSERT INTO direct_messages (sender, recipient, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (sender, client_msg_id) DO NOTHING',
    ),
    findDirect: db.prepare(
      'SELECT id, sender, recipient, body, sent_at AS sentAt, client_msg_id AS clientMsgId ' +
        'FROM direct_messages WHERE sender = ? AND client_msg_id = ?',
    ),
    touchRoom: db.prepare(
      'INSERT INTO rooms (name, last_message_id) VALUES (?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET last_message_id = excluded.last_message_id',
    ),
  };
}

function fromTuple(row: MessageTuple): MessageRecord {
  return { id: row[0], room: row[1], nickname: row[2], body: row[3], sentAt: row[4], clientMsgId: row[5] };
}

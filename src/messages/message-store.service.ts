import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { Database, Statement } from 'better-sqlite3';
import { And, DataSource, LessThan, MoreThan, Repository, type FindOptionsWhere } from 'typeorm';
import type { DirectFrame, MessageFrame } from '../chat/protocol';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MessageEntity } from './message.entity';
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

export interface MessagePage {
  messages: MessageFrame[];
  hasMore: boolean;
}

export interface StoredRoom {
  name: string;
  lastMessageId: number;
}

/** The database could not take or give messages; nothing was stored. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('message store unavailable', { cause });
    this.name = StoreUnavailableError.name;
  }
}

type Pending =
  | { kind: 'room'; message: NewMessage; resolve: (stored: MessageFrame) => void; reject: (e: StoreUnavailableError) => void }
  | { kind: 'direct'; message: NewDirectMessage; resolve: (stored: DirectFrame) => void; reject: (e: StoreUnavailableError) => void };

interface Statements {
  insertMessage: Statement;
  insertDirect: Statement;
  touchRoom: Statement;
}

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
    @InjectRepository(MessageEntity) private readonly messages: Repository<MessageEntity>,
    private readonly metrics: ChatMetrics,
  ) {}

  /** Stores a room message; resolves once it is committed, with its id. */
  append(message: NewMessage): Promise<MessageFrame> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'room', message, resolve, reject }));
  }

  /** Stores a direct message; resolves once it is committed, with its id. */
  appendDirect(message: NewDirectMessage): Promise<DirectFrame> {
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

  async page({ room, limit, before, after }: PageQuery): Promise<MessagePage> {
    const ascending = after !== undefined;
    const idRange =
      after !== undefined && before !== undefined
        ? And(MoreThan(after), LessThan(before))
        : after !== undefined
          ? MoreThan(after)
          : before !== undefined
            ? LessThan(before)
            : undefined;
    const where: FindOptionsWhere<MessageEntity> = idRange ? { room, id: idRange } : { room };
    const rows = await this.read(() =>
      this.messages.find({ where, order: { id: ascending ? 'ASC' : 'DESC' }, take: limit + 1 }),
    );
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!ascending) {
      page.reverse();
    }
    return { messages: page.map(toMessageFrame), hasMore };
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
    let ids: number[];
    const stopTimer = this.metrics.storeWriteSeconds.startTimer();
    try {
      ids = this.writeBatch(batch, sentAt);
      stopTimer();
      this.metrics.storeBatchSize.observe(batch.length);
      this.metrics.messagesStored.inc(batch.length);
    } catch (error) {
      this.statements = null;
      this.logger.error(`group commit of ${batch.length} message(s) failed: ${String(error)}`);
      const failure = new StoreUnavailableError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    batch.forEach((pending, i) => {
      const clientMsgId = pending.message.clientMsgId ?? null;
      if (pending.kind === 'room') {
        pending.resolve(toMessageFrame({ ...pending.message, id: ids[i], sentAt, clientMsgId }));
      } else {
        const { from, to, body } = pending.message;
        pending.resolve(toDirectFrame({ id: ids[i], sender: from, recipient: to, body, sentAt, clientMsgId }));
      }
    });
  }

  /**
   * One synchronous SQLite transaction: nothing else can run on the shared connection
   * between BEGIN and COMMIT, so no reader ever sees a row that might still roll back.
   */
  private writeBatch(batch: Pending[], sentAt: string): number[] {
    const db = this.database();
    const { insertMessage, insertDirect, touchRoom } = (this.statements ??= prepare(db));
    return db.transaction(() => {
      const lastIdByRoom = new Map<string, number>();
      const ids = batch.map((pending) => {
        const m = pending.message;
        if (pending.kind === 'direct') {
          const dm = pending.message;
          return Number(insertDirect.run(dm.from, dm.to, dm.body, sentAt, m.clientMsgId ?? null).lastInsertRowid);
        }
        const { room, nickname, body } = pending.message;
        const id = Number(insertMessage.run(room, nickname, body, sentAt, m.clientMsgId ?? null).lastInsertRowid);
        lastIdByRoom.set(room, id);
        return id;
      });
      for (const [room, id] of lastIdByRoom) touchRoom.run(room, id);
      return ids;
    })();
  }

  private database(): Database {
    if (!this.dataSource.isInitialized) {
      throw new Error('data source is not initialized');
    }
    return (this.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  }
}

function prepare(db: Database): Statements {
  return {
    insertMessage: db.prepare(
      'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?)',
    ),
    insertDirect: db.prepare(
      'INSERT INTO direct_messages (sender, recipient, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?)',
    ),
    touchRoom: db.prepare(
      'INSERT INTO rooms (name, last_message_id) VALUES (?, ?) ' +
        'ON CONFLICT (name) DO UPDATE SET last_message_id = excluded.last_message_id',
    ),
  };
}

export function toMessageFrame(
  row: Pick<MessageEntity, 'id' | 'room' | 'nickname' | 'body' | 'sentAt' | 'clientMsgId'>,
): MessageFrame {
  const frame: MessageFrame = {
    type: 'message',
    id: row.id,
    room: row.room,
    nickname: row.nickname,
    message: row.body,
    sentAt: row.sentAt,
  };
  if (row.clientMsgId !== null) {
    frame.clientMsgId = row.clientMsgId;
  }
  return frame;
}

function toDirectFrame(row: {
  id: number;
  sender: string;
  recipient: string;
  body: string;
  sentAt: string;
  clientMsgId: string | null;
}): DirectFrame {
  const frame: DirectFrame = {
    type: 'direct',
    id: row.id,
    from: row.sender,
    to: row.recipient,
    message: row.body,
    sentAt: row.sentAt,
  };
  if (row.clientMsgId !== null) {
    frame.clientMsgId = row.clientMsgId;
  }
  return frame;
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { Database, Statement } from 'better-sqlite3';
import { DataSource, LessThan, MoreThan, Repository, And, FindOptionsWhere } from 'typeorm';
import type { MessageFrame } from '../chat/protocol';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { MessageEntity } from './message.entity';

export interface NewMessage {
  room: string;
  nickname: string;
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

/** The database could not take or give messages; nothing was stored. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('message store unavailable', { cause });
    this.name = StoreUnavailableError.name;
  }
}

interface Pending {
  message: NewMessage;
  resolve: (stored: MessageFrame) => void;
  reject: (error: StoreUnavailableError) => void;
}

/** Most rows one transaction takes; a larger backlog is written in several. */
const MAX_BATCH = 512;

/**
 * The write path and paging over stored messages.
 *
 * Writes use group commit: every append that arrives while the event loop is busy joins
 * the next transaction, so a burst costs one commit instead of one per message. Promises
 * resolve in id order, after the commit, which is what lets callers broadcast in order.
 */
@Injectable()
export class MessageStore {
  private readonly logger = new Logger(MessageStore.name);
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private insert: Statement | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(MessageEntity) private readonly messages: Repository<MessageEntity>,
    private readonly metrics: ChatMetrics,
  ) {}

  append(message: NewMessage): Promise<MessageFrame> {
    if (this.closed) {
      return Promise.reject(new StoreUnavailableError(new Error('store is shut down')));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
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
    let rows: MessageEntity[];
    try {
      rows = await this.messages.find({ where, order: { id: ascending ? 'ASC' : 'DESC' }, take: limit + 1 });
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    if (!ascending) {
      page.reverse();
    }
    return { messages: page.map(toMessageFrame), hasMore };
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Yield once so that frames already waiting in the event loop join this batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, MAX_BATCH);
        this.commit(batch);
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
      this.insert = null;
      this.logger.error(`group commit of ${batch.length} message(s) failed: ${String(error)}`);
      const failure = new StoreUnavailableError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const { message, resolve } = batch[i];
      resolve(toMessageFrame({ ...message, id: ids[i], sentAt, clientMsgId: message.clientMsgId ?? null }));
    }
  }

  /**
   * One synchronous SQLite transaction: nothing else can run on the shared connection
   * between BEGIN and COMMIT, so no reader ever sees a row that might still roll back.
   */
  private writeBatch(batch: Pending[], sentAt: string): number[] {
    const db = this.database();
    const insert = (this.insert ??= db.prepare(
      'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?)',
    ));
    return db.transaction(() =>
      batch.map(
        ({ message: m }) => Number(insert.run(m.room, m.nickname, m.body, sentAt, m.clientMsgId ?? null).lastInsertRowid),
      ),
    )();
  }

  private database(): Database {
    if (!this.dataSource.isInitialized) {
      throw new Error('data source is not initialized');
    }
    return (this.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  }
}

export function toMessageFrame(row: Pick<MessageEntity, 'id' | 'room' | 'nickname' | 'body' | 'sentAt' | 'clientMsgId'>): MessageFrame {
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

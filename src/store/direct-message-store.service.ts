import { Injectable } from '@nestjs/common';
import type { DirectMessageRecord } from '../protocol/frames';
import {
  ADVANCE_DELIVERED,
  CONVERSATIONS,
  DM_PAGE_AFTER,
  DM_PAGE_BEFORE,
  DM_PAGE_BETWEEN,
  DM_PAGE_NEWEST,
  DMS_SINCE,
  UNDELIVERED,
  type ConversationRow,
} from './direct-message-sql';
import { StoreDatabase } from './store-database';

/** Direct messages, oldest first; `hasMore` when more lie beyond them in the reading direction. */
export interface DirectPage {
  messages: DirectMessageRecord[];
  hasMore: boolean;
}

/** One of a user's conversations: the other user and the newest DM between the two. */
export interface Conversation {
  /** The other user's id, and their nickname (as last signed in, else as the newest DM recorded it). */
  userId: string;
  nickname: string;
  lastId: number;
  lastMessage: DirectMessageRecord;
}

export interface DirectPageQuery {
  limit: number;
  before?: number;
  after?: number;
}

/** How many conversations conversations() lists when not told. */
export const DEFAULT_CONVERSATIONS = 100;

/**
 * The reads over stored direct messages by user id (jwt mode), and the users' DM delivery
 * cursors. DMs are written by MessageStore.appendDirect, in the group commit, in the same id
 * sequence as room messages. Every query names the user it reads for: a DM is returned only to
 * its sender or its recipient.
 */
@Injectable()
export class DirectMessageStore {
  constructor(private readonly database: StoreDatabase) {}

  /**
   * The newest `limit` DMs to or from the user with an id above `afterId`, oldest first;
   * `hasMore` when older ones above `afterId` were left out (as newestSince for a room).
   */
  async dmsSince(userId: string, afterId: number, limit: number): Promise<DirectPage> {
    const n = limit + 1;
    const rows = await this.database.read((runner) => runner.query(DMS_SINCE, [userId, afterId, n, userId, afterId, n, n]) as Promise<DirectMessageRecord[]>).then(plain);
    return cut(rows, limit, true);
  }

  /**
   * The oldest `limit` DMs to the user above its delivery cursor, oldest first; `hasMore` when
   * more wait. Nothing for a user who is not recorded.
   */
  async undeliveredDms(userId: string, limit: number): Promise<DirectPage> {
    const rows = await this.database.read((runner) => runner.query(UNDELIVERED, [userId, userId, limit + 1]) as Promise<DirectMessageRecord[]>).then(plain);
    return cut(rows, limit, false);
  }

  /** Moves the user's delivery cursor to `id`, never back; true when it moved. */
  async markDmsDelivered(userId: string, id: number): Promise<boolean> {
    const result = await this.database.write('recording delivered DMs', (runner) => runner.query(ADVANCE_DELIVERED, [id, userId, id], true));
    return result.affected === 1;
  }

  /** The user's conversations, the one with the newest DM first, at most `limit`. */
  async conversations(userId: string, limit = DEFAULT_CONVERSATIONS): Promise<Conversation[]> {
    const rows = await this.database.read((runner) => runner.query(CONVERSATIONS, [userId, userId, limit]) as Promise<ConversationRow[]>).then(plain);
    return rows.map(({ userId: other, nickname, ...lastMessage }) => ({ userId: other, nickname, lastId: lastMessage.id, lastMessage }));
  }

  /**
   * Keyset paging over the conversation of `userId` with `otherId` (both directions, nothing
   * else): newest first from `before` (or the end), or oldest first from `after`; with both, the
   * oldest `limit` of the window. Returned oldest first.
   */
  async dmPage(userId: string, otherId: string, { limit, before, after }: DirectPageQuery): Promise<DirectPage> {
    const n = limit + 1;
    const range = after !== undefined && before !== undefined ? [after, before] : after !== undefined ? [after] : before !== undefined ? [before] : [];
    const sql =
      after !== undefined && before !== undefined ? DM_PAGE_BETWEEN : after !== undefined ? DM_PAGE_AFTER : before !== undefined ? DM_PAGE_BEFORE : DM_PAGE_NEWEST;
    const params = [userId, otherId, ...range, n, otherId, userId, ...range, n, n];
    const rows = await this.database.read((runner) => runner.query(sql, params) as Promise<DirectMessageRecord[]>).then(plain);
    return cut(rows, limit, after === undefined);
  }
}

/** Rows without a null editedAt or deletedAt: a DM never edited reads as it always did. */
function plain<R extends DirectMessageRecord>(rows: R[]): R[] {
  for (const row of rows) {
    if (row.editedAt === null) delete row.editedAt;
    if (row.deletedAt === null) delete row.deletedAt;
  }
  return rows;
}

/** The first `limit` rows, returned oldest first, and whether there were more. */
function cut(rows: DirectMessageRecord[], limit: number, newestFirst: boolean): DirectPage {
  const messages = rows.slice(0, limit);
  if (newestFirst) messages.reverse();
  return { messages, hasMore: rows.length > limit };
}

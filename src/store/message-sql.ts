import type { StoreRunner } from './dialect';
import type { DirectMessageRecord, MessageRecord } from '../protocol/frames';
import {
  ADVANCE_DELIVERED,
  FIND_DIRECT_BY_NICKNAME,
  FIND_DIRECT_BY_USER,
  INSERT_DIRECT_BY_NICKNAME,
  INSERT_DIRECT_BY_USER,
} from './direct-message-sql';
import { insertedId, postgresStoredText, type Dialect } from './dialect';
import type { NewDirectMessage, NewMessage, Stored } from './message-store.service';

// The store's statements, sent through TypeORM's query runner, which prepares each text once and
// keeps it. Writes use ON CONFLICT, which PostgreSQL shares; on PostgreSQL an INSERT returns its id
// (RETURNING id) and the page reads use json_agg (SQLite's is json_group_array): see dialect.ts.

/** Most rows one transaction takes; a larger backlog is written in several. */
export const MAX_BATCH = 512;

// A room message's clientMsgId is unique per room for anonymous senders and per (room, user) for
// signed-in ones (two partial unique indexes, told apart by user_id; conflict targets name them).
const INSERT_MESSAGE =
  'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id, user_id) VALUES (?, ?, ?, ?, ?, NULL) ' +
  'ON CONFLICT (room, client_msg_id) WHERE user_id IS NULL DO NOTHING';
const INSERT_USER_MESSAGE =
  'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id, user_id) VALUES (?, ?, ?, ?, ?, ?) ' +
  'ON CONFLICT (room, user_id, client_msg_id) WHERE room IS NOT NULL AND user_id IS NOT NULL DO NOTHING';
/** The INSERTs of the write path, as each dialect gives back the new row's id. */
interface Inserts {
  message: string;
  userMessage: string;
  directByNickname: string;
  directByUser: string;
  /** A message's text as the database keeps it, for the record the append resolves with. */
  stored: (text: string) => string;
}
const asIs = (text: string) => text;
const returningId = (insert: string) => `${insert} RETURNING id`;
const INSERTS: Record<Dialect, Inserts> = {
  sqlite: { message: INSERT_MESSAGE, userMessage: INSERT_USER_MESSAGE, directByNickname: INSERT_DIRECT_BY_NICKNAME, directByUser: INSERT_DIRECT_BY_USER, stored: asIs },
  postgres: {
    message: returningId(INSERT_MESSAGE),
    userMessage: returningId(INSERT_USER_MESSAGE),
    directByNickname: returningId(INSERT_DIRECT_BY_NICKNAME),
    directByUser: returningId(INSERT_DIRECT_BY_USER),
    stored: postgresStoredText,
  },
};
const MESSAGE_COLUMNS = 'id, room, nickname, body, sent_at AS "sentAt", client_msg_id AS "clientMsgId", user_id AS "userId"';
const FIND_MESSAGE = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND client_msg_id = ? AND user_id IS NULL`;
const FIND_USER_MESSAGE = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND client_msg_id = ? AND user_id = ?`;
export const ROOMS =
  'SELECT name, last_message_id AS "lastMessageId", visibility, owner_id AS "ownerId", created_at AS "createdAt" FROM rooms';

/** One append of a group commit and where its stored row goes once the commit is durable. */
export type Append =
  | { kind: 'room'; message: NewMessage; resolve: (stored: Stored<MessageRecord>) => void }
  | { kind: 'direct'; message: NewDirectMessage; resolve: (stored: Stored<DirectMessageRecord>) => void };

export interface WrittenBatch {
  /** Resolves every append of the batch in order; call it only once the transaction committed. */
  acknowledge(): void;
  /** Rows written (resends write nothing). */
  stored: number;
}

/**
 * The statements of one group commit, to run inside a transaction: one INSERT per message (a
 * multi-row INSERT makes SQLite keep a statement journal of every page it touches, which costs
 * more than the per-statement overhead when a batch spans many rooms), then one upsert of the
 * newest id of every room that got a row, and, for the recipients of `delivered` DMs, one
 * forward-only move of their delivery cursor each. Every row gets the same sentAt.
 */
export async function writeBatch(runner: StoreRunner, batch: readonly Append[], dialect: Dialect): Promise<WrittenBatch> {
  const inserts = INSERTS[dialect];
  const sentAt = new Date().toISOString();
  const acknowledgements: Array<() => void> = [];
  const newestByRoom = new Map<string, number>();
  const deliveredTo = new Map<string, number>();
  let stored = 0;
  for (const append of batch) {
    if (append.kind === 'room') {
      const result = await insertMessage(runner, inserts, append.message, sentAt);
      if (!result.duplicate) newestByRoom.set(result.record.room, result.record.id);
      acknowledgements.push(() => append.resolve(result));
      if (!result.duplicate) stored++;
    } else {
      const { message } = append;
      const result = await insertDirect(runner, inserts, message, sentAt);
      acknowledgements.push(() => append.resolve(result));
      if (result.duplicate) continue;
      stored++;
      if (message.delivered && message.toId !== undefined) deliveredTo.set(message.toId, result.record.id);
    }
  }
  await touchRooms(runner, newestByRoom);
  for (const [userId, id] of deliveredTo) await runner.query(ADVANCE_DELIVERED, [id, userId, id]);
  return { acknowledge: () => acknowledgements.forEach((acknowledge) => acknowledge()), stored };
}

/**
 * A resend (same room and clientMsgId, and same user when the sender has a user id) conflicts and
 * writes nothing; the original row comes back.
 */
async function insertMessage(runner: StoreRunner, inserts: Inserts, m: NewMessage, sentAt: string): Promise<Stored<MessageRecord>> {
  const clientMsgId = m.clientMsgId ?? null;
  const userId = m.userId ?? null;
  const result =
    userId === null
      ? await runner.query(inserts.message, [m.room, m.nickname, m.body, sentAt, clientMsgId], true)
      : await runner.query(inserts.userMessage, [m.room, m.nickname, m.body, sentAt, clientMsgId, userId], true);
  if (result.affected === 0) {
    const found = userId === null ? await original<MessageRecord>(runner, FIND_MESSAGE, m.room, clientMsgId) : await originalOf(runner, m.room, clientMsgId, userId);
    return { record: found, duplicate: true };
  }
  return { record: { id: insertedId(result), room: m.room, nickname: m.nickname, body: inserts.stored(m.body), sentAt, clientMsgId, userId }, duplicate: false };
}

/** Idempotent per (sender user id, clientMsgId) when the sender has one, else per (sender nickname, clientMsgId). */
async function insertDirect(runner: StoreRunner, inserts: Inserts, m: NewDirectMessage, sentAt: string): Promise<Stored<DirectMessageRecord>> {
  const clientMsgId = m.clientMsgId ?? null;
  const senderId = m.fromId ?? null;
  const recipientId = m.toId ?? null;
  const result =
    senderId === null
      ? await runner.query(inserts.directByNickname, [m.from, m.body, sentAt, clientMsgId, m.to, recipientId], true)
      : await runner.query(inserts.directByUser, [m.from, m.body, sentAt, clientMsgId, senderId, m.to, recipientId], true);
  if (result.affected === 0) {
    const [sql, scope] = senderId === null ? [FIND_DIRECT_BY_NICKNAME, m.from] : [FIND_DIRECT_BY_USER, senderId];
    return { record: await original<DirectMessageRecord>(runner, sql, scope, clientMsgId), duplicate: true };
  }
  const record: DirectMessageRecord = {
    id: insertedId(result),
    sender: m.from,
    recipient: m.to,
    body: inserts.stored(m.body),
    sentAt,
    clientMsgId,
    senderId,
    recipientId,
  };
  return { record, duplicate: false };
}

async function original<R>(runner: StoreRunner, sql: string, scope: string, clientMsgId: string | null): Promise<R> {
  const rows = (await runner.query(sql, [scope, clientMsgId])) as R[];
  if (rows.length !== 1) throw new Error(`no stored row holds clientMsgId ${clientMsgId} in ${scope}`);
  return rows[0];
}

async function originalOf(runner: StoreRunner, room: string, clientMsgId: string | null, userId: string): Promise<MessageRecord> {
  const rows = (await runner.query(FIND_USER_MESSAGE, [room, clientMsgId, userId])) as MessageRecord[];
  if (rows.length !== 1) throw new Error(`no stored row holds clientMsgId ${clientMsgId} of user ${userId} in ${room}`);
  return rows[0];
}

const roomsSql = new Map<number, string>();

/**
 * Upserts the newest id of each room, in power-of-two chunks (200 rooms = 128 + 64 + 8), so that any
 * number of rooms needs at most ten statement texts, all of which stay prepared.
 */
async function touchRooms(runner: StoreRunner, newestByRoom: ReadonlyMap<string, number>): Promise<void> {
  const params: unknown[] = [];
  for (const [room, id] of newestByRoom) params.push(room, id);
  let done = 0;
  for (let size = MAX_BATCH; size >= 1; size >>= 1) {
    if ((newestByRoom.size & size) === 0) continue;
    let sql = roomsSql.get(size);
    if (sql === undefined) {
      const values = Array.from({ length: size }, () => '(?, ?)').join(', ');
      sql = `INSERT INTO rooms (name, last_message_id) VALUES ${values} ON CONFLICT (name) DO UPDATE SET last_message_id = excluded.last_message_id`;
      roomsSql.set(size, sql);
    }
    await runner.query(sql, params.slice(done * 2, (done + size) * 2));
    done += size;
  }
}

/** A row of a page as SQLite's JSON aggregate encodes it; the room is the one asked for. */
type PageTuple = [id: number, nickname: string, body: string, sentAt: string, clientMsgId: string | null, userId: string | null, editedAt: string | null, deletedAt: string | null];

/**
 * A page read returns one row holding the whole page as a JSON array of arrays: building a named
 * object per row in the driver costs more than SQLite encoding the page and V8 parsing it.
 * PostgreSQL's json_agg gives NULL for no rows, and its subquery needs a name.
 */
const page: Record<Dialect, (where: string, order: 'ASC' | 'DESC') => string> = {
  sqlite: (where, order) =>
    'SELECT json_group_array(json_array(id, nickname, body, sent_at, client_msg_id, user_id, edited_at, deleted_at)) AS page FROM ' +
    `(SELECT id, nickname, body, sent_at, client_msg_id, user_id, edited_at, deleted_at FROM messages WHERE ${where} ORDER BY id ${order} LIMIT ?)`,
  postgres: (where, order) =>
    "SELECT COALESCE(json_agg(json_build_array(id, nickname, body, sent_at, client_msg_id, user_id, edited_at, deleted_at)), '[]') AS page FROM " +
    `(SELECT id, nickname, body, sent_at, client_msg_id, user_id, edited_at, deleted_at FROM messages WHERE ${where} ORDER BY id ${order} LIMIT ?) AS page_rows`,
};

/** Keyset paging over the (room, id) index. */
export interface PageStatements {
  newest: string;
  before: string;
  after: string;
  between: string;
  newestSince: string;
}
const pages = (dialect: Dialect): PageStatements => ({
  newest: page[dialect]('room = ?', 'DESC'),
  before: page[dialect]('room = ? AND id < ?', 'DESC'),
  after: page[dialect]('room = ? AND id > ?', 'ASC'),
  between: page[dialect]('room = ? AND id > ? AND id < ?', 'ASC'),
  newestSince: page[dialect]('room = ? AND id > ?', 'DESC'),
});
export const PAGES: Record<Dialect, PageStatements> = { sqlite: pages('sqlite'), postgres: pages('postgres') };

/**
 * The first `limit` rows of a page read, returned oldest first, and whether the read found more.
 * The aggregate keeps the order of its subquery; should it ever not, the rows are sorted.
 */
export function pageRows(result: unknown, room: string, limit: number, newestFirst: boolean): { rows: MessageRecord[]; hasMore: boolean } {
  // SQLite returns the JSON text; node-postgres parses json columns itself.
  const page = (result as Array<{ page: string | PageTuple[] }>)[0].page;
  const tuples = typeof page === 'string' ? (JSON.parse(page) as PageTuple[]) : page;
  if (!inOrder(tuples, newestFirst)) tuples.sort((a, b) => (newestFirst ? b[0] - a[0] : a[0] - b[0]));
  const n = Math.min(tuples.length, limit);
  const rows = new Array<MessageRecord>(n);
  for (let i = 0; i < n; i++) {
    const t = tuples[i];
    const row: MessageRecord = { id: t[0], room, nickname: t[1], body: t[2], sentAt: t[3], clientMsgId: t[4], userId: t[5] };
    // Set only when there is one, so a plain message's record is what it always was.
    if (t[6] != null) row.editedAt = t[6];
    if (t[7] != null) row.deletedAt = t[7];
    rows[newestFirst ? n - 1 - i : i] = row;
  }
  return { rows, hasMore: tuples.length > limit };
}

function inOrder(tuples: readonly PageTuple[], newestFirst: boolean): boolean {
  for (let i = 1; i < tuples.length; i++) {
    if (newestFirst ? tuples[i][0] > tuples[i - 1][0] : tuples[i][0] < tuples[i - 1][0]) return false;
  }
  return true;
}

import { Injectable } from '@nestjs/common';
import type { StoreRunner } from './dialect';
import { StoreDatabase } from './store-database';

/**
 * Whom a data-subject request is about: a user id (jwt mode: the rows that carry it) or a nickname
 * (anonymous mode: the rows of anonymous senders and recipients that carry exactly it).
 */
export type DataSubject = { userId: string } | { nickname: string };

/** Rowids one read or write covers: each call is short, whatever the size of the table. */
export const SCAN_WINDOW = 10_000;
/** Most rows one read returns (a window can hold more matches: it is then read in several). */
export const SCAN_ROWS = 1000;

/** What an erasure changed. */
export interface ErasureCounts {
  messages: number;
  directMessages: number;
  auditRows: number;
  /** 1 when the users row (jwt mode) was deleted. */
  account: number;
}

type Row = Record<string, unknown>;

/** A rowid window; its bounds are parameters, so each statement text is prepared once. */
const WINDOW = 'id > ? AND id <= ?';

const MESSAGE_COLUMNS =
  'id, room, nickname, body, sent_at AS "sentAt", client_msg_id AS "clientMsgId", user_id AS "userId", edited_at AS "editedAt", deleted_at AS "deletedAt"';
const DIRECT_COLUMNS =
  'id, nickname AS "sender", user_id AS "senderId", recipient, recipient_id AS "recipientId", body, sent_at AS "sentAt", ' +
  'client_msg_id AS "clientMsgId", edited_at AS "editedAt", deleted_at AS "deletedAt"';
const AUDIT_COLUMNS = 'id, at, actor, action, target, room, reason, address';

/** The SQL conditions that find a subject's rows, and their parameters. */
interface Match {
  messages: [string, unknown[]];
  sent: [string, unknown[]];
  received: [string, unknown[]];
}

function match(subject: DataSubject): Match {
  if ('userId' in subject) {
    const id = subject.userId;
    return { messages: ['room IS NOT NULL AND user_id = ?', [id]], sent: ['room IS NULL AND user_id = ?', [id]], received: ['room IS NULL AND recipient_id = ?', [id]] };
  }
  const nick = subject.nickname;
  return {
    messages: ['room IS NOT NULL AND user_id IS NULL AND nickname = ?', [nick]],
    sent: ['room IS NULL AND user_id IS NULL AND nickname = ?', [nick]],
    received: ['room IS NULL AND recipient_id IS NULL AND recipient = ?', [nick]],
  };
}

const subjectKey = (subject: DataSubject): string => ('userId' in subject ? subject.userId : subject.nickname);

/**
 * Data-subject requests on the shared StoreDatabase: everything stored about one user, read a
 * bounded window at a time (export), and the erasure of what they wrote and were sent, a bounded
 * window per transaction (so the group commit takes its turns in between).
 *
 * Both walk the tables by rowid windows rather than by an index on the user: no such index exists
 * for room messages, and adding one would cost every message write. A window is a rowid range
 * scan of SCAN_WINDOW rows, read or written in a few milliseconds.
 */
@Injectable()
export class DataSubjectStore {
  constructor(private readonly database: StoreDatabase) {}

  /** The users row (jwt mode), or null. */
  async account(userId: string): Promise<Row | null> {
    const rows = await this.database.read<Row[]>((runner) =>
      runner.query(
        'SELECT id, nickname, roles, first_seen AS "firstSeen", last_seen AS "lastSeen", dm_delivered_id AS "dmDeliveredId" FROM users WHERE id = ?',
        [userId],
      ),
    );
    return rows[0] ?? null;
  }

  /** Their stored room memberships (jwt mode). */
  memberships(userId: string): Promise<Row[]> {
    return this.database.read<Row[]>((runner) => runner.query('SELECT room, joined_at AS "joinedAt" FROM room_members WHERE user_id = ? ORDER BY room', [userId]));
  }

  /** The rooms they created (jwt mode). */
  ownedRooms(userId: string): Promise<Row[]> {
    return this.database.read<Row[]>((runner) =>
      runner.query('SELECT name, visibility, created_at AS "createdAt", retention_days AS "retentionDays" FROM rooms WHERE owner_id = ? ORDER BY name', [
        userId,
      ]),
    );
  }

  /** Their room messages, oldest first, a page at a time. */
  messages(subject: DataSubject): AsyncGenerator<Row[]> {
    const [where, params] = match(subject).messages;
    return this.scan('messages', MESSAGE_COLUMNS, where, params);
  }

  /** The direct messages they sent and received, oldest first, a page at a time. */
  directMessages(subject: DataSubject): AsyncGenerator<Row[]> {
    const { sent, received } = match(subject);
    return this.scan('messages', DIRECT_COLUMNS, `((${sent[0]}) OR (${received[0]}))`, [...sent[1], ...received[1]]);
  }

  /** The audit rows they are the actor or the target of, oldest first, a page at a time. */
  audit(subject: DataSubject): AsyncGenerator<Row[]> {
    const key = subjectKey(subject);
    return this.scan('audit_log', AUDIT_COLUMNS, '(actor = ? OR target = ?)', [key, key]);
  }

  /**
   * Erasure: the text of their room messages and of the direct messages they sent and received is
   * removed (body '', deleted_at set: tombstones), and their name on those rows and on the audit
   * log is replaced by `pseudonym`; in jwt mode the users row is deleted. One transaction per window.
   */
  async erase(subject: DataSubject, pseudonym: string): Promise<ErasureCounts> {
    const at = new Date().toISOString();
    const counts: ErasureCounts = { messages: 0, directMessages: 0, auditRows: 0, account: 0 };
    const byUser = 'userId' in subject;
    const { messages, sent, received } = match(subject);
    // Tombstones of what they wrote and were sent; their side of each row becomes the pseudonym.
    const senderSet = byUser ? 'nickname = ?, user_id = ?' : 'nickname = ?';
    const recipientSet = byUser ? 'recipient = ?, recipient_id = ?' : 'recipient = ?';
    // As MessageChanges' TOMBSTONE: a newly deleted row records the newest id in changed_at_id, so
    // that a client resuming from before the erasure is sent message_deleted for what it had.
    const tombstone = "body = '', changed_at_id = CASE WHEN deleted_at IS NULL THEN (SELECT MAX(id) FROM messages) ELSE changed_at_id END, deleted_at = COALESCE(deleted_at, ?)";
    const names = byUser ? [pseudonym, pseudonym] : [pseudonym];
    // Ordered, as every write of changed_at_id (see MessageChanges.edit).
    await this.writeWindows('messages', 'erasing a user', true, async (runner, range) => {
      counts.messages += await update(runner, `UPDATE messages SET ${tombstone}, ${senderSet} WHERE ${WINDOW} AND ${messages[0]}`, [at, ...names], [...range, ...messages[1]]);
      counts.directMessages += await update(runner, `UPDATE messages SET ${tombstone}, ${senderSet} WHERE ${WINDOW} AND ${sent[0]}`, [at, ...names], [...range, ...sent[1]]);
      counts.directMessages += await update(runner, `UPDATE messages SET ${tombstone}, ${recipientSet} WHERE ${WINDOW} AND ${received[0]}`, [at, ...names], [
        ...range,
        ...received[1],
      ]);
    });
    const key = subjectKey(subject);
    await this.writeWindows('audit_log', 'anonymising the audit log', false, async (runner, range) => {
      const actor = await update(runner, `UPDATE audit_log SET actor = ? WHERE ${WINDOW} AND actor = ?`, [pseudonym], [...range, key]);
      const target = await update(runner, `UPDATE audit_log SET target = ? WHERE ${WINDOW} AND target = ?`, [pseudonym], [...range, key]);
      counts.auditRows += actor + target;
    });
    if (byUser) {
      counts.account = await this.database.write('erasing a user', (runner) => update(runner, 'DELETE FROM users WHERE id = ?', [], [subject.userId]));
    }
    return counts;
  }

  /** Rows of `table` matching `where`, by rowid windows up to the newest id at the start; yields non-empty pages only. */
  private async *scan(table: string, columns: string, where: string, params: unknown[]): AsyncGenerator<Row[]> {
    const newest = await this.newestId(table);
    let after = 0;
    while (after < newest) {
      const end = Math.min(after + SCAN_WINDOW, newest);
      const rows = await this.database.read<Row[]>((runner) =>
        runner.query(`SELECT ${columns} FROM ${table} WHERE id > ? AND id <= ? AND ${where} ORDER BY id LIMIT ?`, [after, end, ...params, SCAN_ROWS]),
      );
      // A full page may leave matches in the window: go on from its last row, else from the window's end.
      after = rows.length === SCAN_ROWS ? (rows[rows.length - 1].id as number) : end;
      if (rows.length > 0) yield rows;
    }
  }

  /** One write transaction per rowid window of `table`, up to the newest id at the start, yielding to the event loop in between. */
  private async writeWindows(
    table: string,
    what: string,
    ordered: boolean,
    work: (runner: StoreRunner, range: [after: number, end: number]) => Promise<void>,
  ): Promise<void> {
    const newest = await this.newestId(table);
    for (let after = 0; after < newest; after += SCAN_WINDOW) {
      const end = Math.min(after + SCAN_WINDOW, newest);
      await this.database.write(what, (runner) => work(runner, [after, end]), { ordered });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async newestId(table: string): Promise<number> {
    const [row] = await this.database.read<Array<{ newest: number | null }>>((runner) => runner.query(`SELECT MAX(id) AS newest FROM ${table}`));
    return row.newest ?? 0;
  }
}

/** Runs a write; returns the rows it changed. */
async function update(runner: StoreRunner, sql: string, set: unknown[], where: unknown[]): Promise<number> {
  const result = await runner.query(sql, [...set, ...where], true);
  return result.affected ?? 0;
}

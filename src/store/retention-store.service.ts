import { Injectable } from '@nestjs/common';
import type { Dialect, StoreRunner } from './dialect';
import { StoreDatabase } from './store-database';

/** Most rows one retention transaction deletes: a batch holds the write lock for milliseconds, never for a table. */
export const RETENTION_BATCH = 1000;

/** What one batch deletes: the room messages of one room, or the direct messages (room NULL). */
export type RetentionScope = { room: string } | 'direct';

export interface PurgedBatch {
  deleted: number;
  /** Nothing older than the cutoff is left at the start of this scope (the next batch would delete nothing). */
  done: boolean;
}

/** The highest ids retention deleted: per room, and of the direct messages (0: none). */
export interface RetentionMarks {
  rooms: Map<string, number>;
  direct: number;
}

export interface RoomRetention {
  room: string;
  /** The room's own retention in days; null follows RETENTION_DAYS. */
  days: number | null;
}

const DIRECT_SCOPE = 'direct';
const scopeOf = (scope: RetentionScope): string => (scope === 'direct' ? DIRECT_SCOPE : `room:${scope.room}`);

// The oldest rows of a scope, through the (room, id) index (which serves `room IS NULL` too).
const OLDEST_IN_ROOM = 'SELECT id, sent_at AS "sentAt" FROM messages WHERE room = ? ORDER BY id LIMIT ?';
const OLDEST_DIRECT = 'SELECT id, sent_at AS "sentAt" FROM messages WHERE room IS NULL ORDER BY id LIMIT ?';
const DELETE_IN_ROOM = 'DELETE FROM messages WHERE room = ? AND id <= ?';
const DELETE_DIRECT = 'DELETE FROM messages WHERE room IS NULL AND id <= ?';
const MARK: Record<Dialect, string> = {
  sqlite:
    'INSERT INTO retention_marks (scope, purged_through_id, purged_at) VALUES (?, ?, ?) ' +
    'ON CONFLICT (scope) DO UPDATE SET purged_through_id = MAX(purged_through_id, excluded.purged_through_id), purged_at = excluded.purged_at',
  // PostgreSQL's MAX is only an aggregate.
  postgres:
    'INSERT INTO retention_marks (scope, purged_through_id, purged_at) VALUES (?, ?, ?) ' +
    'ON CONFLICT (scope) DO UPDATE SET purged_through_id = GREATEST(retention_marks.purged_through_id, excluded.purged_through_id), purged_at = excluded.purged_at',
};

/**
 * Retention's rows: which rooms keep messages for how long, deleting the old ones a bounded batch
 * at a time, and the marks that tell a resume that messages it asks for were deleted.
 *
 * Rows are deleted (not tombstoned): retention means the data is gone. `messages.id` is
 * AUTOINCREMENT, so a deleted id is never handed out again, and `rooms.last_message_id` stays the
 * newest id the room ever had.
 */
@Injectable()
export class RetentionStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Every room with its own retention setting (null: RETENTION_DAYS). */
  rooms(): Promise<RoomRetention[]> {
    return this.database.read<RoomRetention[]>((runner) => runner.query('SELECT name AS "room", retention_days AS "days" FROM rooms ORDER BY name'));
  }

  /** Sets a room's retention (null: back to RETENTION_DAYS); false when no such room is stored. */
  async setRoomRetention(room: string, days: number | null): Promise<boolean> {
    const result = await this.database.write('setting a room retention', (runner) =>
      runner.query('UPDATE rooms SET retention_days = ? WHERE name = ?', [days, room], true),
    );
    return result.affected === 1;
  }

  /**
   * One transaction: deletes up to `limit` of the oldest rows of `scope` sent before `cutoff`
   * (ISO 8601), walking up the ids, and raises the scope's mark to the highest id deleted. The walk
   * stops at the first row that is not old enough: ids grow with sent_at (both are given at commit),
   * so what lies above it is newer (a row stamped older after a clock stepped back waits for it).
   */
  purgeBatch(scope: RetentionScope, cutoff: string, limit = RETENTION_BATCH): Promise<PurgedBatch> {
    return this.database.write('retention', async (runner) => {
      const rows = (await (scope === 'direct' ? runner.query(OLDEST_DIRECT, [limit]) : runner.query(OLDEST_IN_ROOM, [scope.room, limit]))) as Array<{
        id: number;
        sentAt: string;
      }>;
      const old = rows.findIndex((row) => row.sentAt >= cutoff);
      const count = old === -1 ? rows.length : old;
      if (count === 0) return { deleted: 0, done: true };
      const through = rows[count - 1].id;
      await deleteThrough(runner, scope, through);
      await runner.query(MARK[this.database.dialect], [scopeOf(scope), through, new Date().toISOString()]);
      return { deleted: count, done: count < rows.length || rows.length < limit };
    });
  }

  /** The marks of `rooms` (absent: nothing deleted there) and, with `direct`, of the direct messages. */
  async marks(rooms: readonly string[], direct: boolean): Promise<RetentionMarks> {
    const scopes = rooms.map((room) => scopeOf({ room }));
    if (direct) scopes.push(DIRECT_SCOPE);
    const marks: RetentionMarks = { rooms: new Map(), direct: 0 };
    if (scopes.length === 0) return marks;
    const rows = await this.database.read(
      (runner) =>
        runner.query(`SELECT scope, purged_through_id AS "id" FROM retention_marks WHERE scope IN (${scopes.map(() => '?').join(', ')})`, scopes) as Promise<
          Array<{ scope: string; id: number }>
        >,
    );
    for (const { scope, id } of rows) {
      if (scope === DIRECT_SCOPE) marks.direct = id;
      else marks.rooms.set(scope.slice('room:'.length), id);
    }
    return marks;
  }
}

async function deleteThrough(runner: StoreRunner, scope: RetentionScope, through: number): Promise<void> {
  if (scope === 'direct') await runner.query(DELETE_DIRECT, [through]);
  else await runner.query(DELETE_IN_ROOM, [scope.room, through]);
}

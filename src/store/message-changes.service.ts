import { Injectable } from '@nestjs/common';
import { CHANGES_SINCE, EDIT, FIND_TARGET, TOMBSTONE } from './message-change-sql';
import { StoreDatabase } from './store-database';

/** A stored message as an edit or deletion sees it. `room` null: a direct message. */
export interface ChangeTarget {
  id: number;
  room: string | null;
  nickname: string;
  userId: string | null;
  recipient: string | null;
  recipientId: string | null;
  deletedAt: string | null;
  /** The owner of its room (create_room), if it has one. */
  roomOwnerId: string | null;
}

/** A message turned into a tombstone. */
export interface Tombstoned {
  id: number;
  room: string | null;
  userId: string | null;
  recipientId: string | null;
}

/** A change a resume replays: an edit (editedAt, body) or a deletion (deletedAt). */
export interface MessageChange {
  id: number;
  room: string | null;
  body: string;
  editedAt: string | null;
  deletedAt: string | null;
  userId: string | null;
  recipientId: string | null;
}

/**
 * Edits and deletions of stored messages, on the StoreDatabase every store class shares. Each is
 * a small transaction of its own, taking its turn with the group commit on the one connection; a
 * message can only be edited once its id is known, that is once its append has committed, so no
 * change can overtake the append of the message it changes.
 */
@Injectable()
export class MessageChanges {
  constructor(private readonly database: StoreDatabase) {}

  /** The message with this id (room or direct, deleted or not), or undefined. */
  async find(id: number): Promise<ChangeTarget | undefined> {
    const rows = await this.database.read((runner) => runner.query(FIND_TARGET, [id]) as Promise<ChangeTarget[]>);
    return rows[0];
  }

  /** Replaces its text; resolves with the edit's time, or undefined when it is gone (deleted meanwhile). */
  async edit(id: number, body: string): Promise<string | undefined> {
    const editedAt = new Date().toISOString();
    // Ordered: changed_at_id is the newest id, which only the order lock makes final across nodes.
    const result = await this.database.write('editing a message', (runner) => runner.query(EDIT, [body, editedAt, id], true), { ordered: true });
    return result.affected === 1 ? editedAt : undefined;
  }

  /**
   * Turns these messages into tombstones (body '', deleted_at set: the text is gone from the
   * store); returns the ones that were not deleted already. Erasure uses it too.
   */
  async deleteMessages(ids: readonly number[]): Promise<Tombstoned[]> {
    if (ids.length === 0) return [];
    const deletedAt = new Date().toISOString();
    const sql = TOMBSTONE[this.database.dialect];
    // The RETURNING rows as records: PostgreSQL's raw result of an UPDATE also holds its row count.
    return this.database.write(
      'deleting messages',
      async (runner) => (await runner.query(sql, [deletedAt, JSON.stringify(ids)], true)).records as Tombstoned[],
      { ordered: true },
    );
  }

  /**
   * Edits and deletions a client resuming from `since` missed, of messages it had (id <= since)
   * in `rooms`, and of the direct messages to or from `userId`; oldest first, at most `limit`
   * (the newest messages' changes when there are more).
   */
  async changesSince(since: number, rooms: readonly string[], userId: string | undefined, limit: number): Promise<MessageChange[]> {
    const user = userId ?? null;
    const rows = await this.database.read(
      (runner) => runner.query(CHANGES_SINCE[this.database.dialect], [since, since, JSON.stringify(rooms), user, user, user, limit]) as Promise<MessageChange[]>,
    );
    return rows.reverse();
  }
}

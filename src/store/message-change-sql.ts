import type { Dialect } from './dialect';

// The statements of edits and deletions. A deletion leaves a tombstone: body '' and deleted_at set,
// the text gone from the store. Every change records the newest message id at its time in
// changed_at_id, which is what a resume from `since` looks for (changed_at_id >= since).

/** A message and what deciding about it needs: its author, its room's owner, whether it is gone. */
export const FIND_TARGET =
  'SELECT m.id, m.room, m.nickname, m.user_id AS "userId", m.recipient, m.recipient_id AS "recipientId", ' +
  'm.deleted_at AS "deletedAt", r.owner_id AS "roomOwnerId" FROM messages m LEFT JOIN rooms r ON r.name = m.room WHERE m.id = ?';

const NEWEST_ID = '(SELECT MAX(id) FROM messages)';

/** Params: body, editedAt, id. Touches nothing once the message is deleted. */
export const EDIT = `UPDATE messages SET body = ?, edited_at = ?, changed_at_id = ${NEWEST_ID} WHERE id = ? AND deleted_at IS NULL`;

/** The ids in a JSON array parameter, as rows: SQLite's json_each, PostgreSQL's json_array_elements_text. */
const JSON_IDS: Record<Dialect, string> = { sqlite: 'SELECT value FROM json_each(?)', postgres: 'SELECT value::integer FROM json_array_elements_text(?::json)' };
const JSON_TEXTS: Record<Dialect, string> = { sqlite: 'SELECT value FROM json_each(?)', postgres: 'SELECT value FROM json_array_elements_text(?::json)' };

const tombstone = (dialect: Dialect) =>
  `UPDATE messages SET body = '', deleted_at = ?, changed_at_id = ${NEWEST_ID} ` +
  `WHERE id IN (${JSON_IDS[dialect]}) AND deleted_at IS NULL RETURNING id, room, user_id AS "userId", recipient_id AS "recipientId"`;

/**
 * The one statement that turns messages into tombstones (deletions here, and erasure's).
 * Params: deletedAt, a JSON array of ids. Already deleted ones are left as they are.
 */
export const TOMBSTONE: Record<Dialect, string> = { sqlite: tombstone('sqlite'), postgres: tombstone('postgres') };

/**
 * The changes a client resuming from `since` missed to messages it had: edited or deleted rows
 * with id <= since whose change came at or after since, in the listed rooms or, for a user
 * (jwt mode), among its direct messages; the newest messages' first, at most `limit`.
 * Params: since, since, rooms (JSON array), userId, userId, userId, limit.
 */
const changesSince = (dialect: Dialect) =>
  'SELECT id, room, body, edited_at AS "editedAt", deleted_at AS "deletedAt", user_id AS "userId", recipient_id AS "recipientId" ' +
  `FROM messages WHERE changed_at_id >= ? AND id <= ? AND (room IN (${JSON_TEXTS[dialect]}) ` +
  // PostgreSQL cannot tell the type of a parameter that is only tested for NULL: it is told.
  `OR (room IS NULL AND ?${dialect === 'postgres' ? '::text' : ''} IS NOT NULL AND (user_id = ? OR recipient_id = ?))) ORDER BY id DESC LIMIT ?`;
export const CHANGES_SINCE: Record<Dialect, string> = { sqlite: changesSince('sqlite'), postgres: changesSince('postgres') };

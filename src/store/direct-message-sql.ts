import type { DirectMessageRecord } from '../protocol/frames';

// Direct messages are the rows of `messages` whose room is NULL. Every statement here says
// `room IS NULL`, which is what lets SQLite (and PostgreSQL) use the partial DM indexes:
// (user_id, id) and (recipient_id, id) WHERE room IS NULL. "To or from X" is a UNION of one range
// scan on each, never an OR (SQLite would scan every DM through the (room, id) index instead).

/** A DM row as DirectMessageRecord, straight from the driver (what a resend finds: never edited yet). */
const BASE_COLUMNS =
  'id, nickname AS "sender", recipient, body, sent_at AS "sentAt", client_msg_id AS "clientMsgId", user_id AS "senderId", recipient_id AS "recipientId"';
/** With its edit and deletion times, for the reads (DirectMessageStore drops them when null). */
export const DM_COLUMNS = `${BASE_COLUMNS}, edited_at AS "editedAt", deleted_at AS "deletedAt"`;
/** The same columns unnamed, for the subqueries DM_COLUMNS selects from. */
const RAW_COLUMNS = 'id, nickname, recipient, body, sent_at, client_msg_id, user_id, recipient_id, edited_at, deleted_at';

export const INSERT_DIRECT_BY_USER =
  'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id, user_id, recipient, recipient_id) ' +
  'VALUES (NULL, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, client_msg_id) WHERE room IS NULL AND user_id IS NOT NULL DO NOTHING';
export const FIND_DIRECT_BY_USER = `SELECT ${BASE_COLUMNS} FROM messages WHERE room IS NULL AND user_id = ? AND client_msg_id = ?`;

/** Anonymous senders (no user id): idempotent per sender nickname, as direct_messages was. */
export const INSERT_DIRECT_BY_NICKNAME =
  'INSERT INTO messages (room, nickname, body, sent_at, client_msg_id, user_id, recipient, recipient_id) ' +
  'VALUES (NULL, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (nickname, client_msg_id) WHERE room IS NULL AND user_id IS NULL DO NOTHING';
export const FIND_DIRECT_BY_NICKNAME = `SELECT ${BASE_COLUMNS} FROM messages WHERE room IS NULL AND user_id IS NULL AND nickname = ? AND client_msg_id = ?`;

/** Moves a user's delivery cursor, forward only; params: id, userId, id. */
export const ADVANCE_DELIVERED = 'UPDATE users SET dm_delivered_id = ? WHERE id = ? AND dm_delivered_id < ?';

/** The DMs to or from one user in `range` (on id), `order`ed, at most `limit` from each side and in all. */
const toOrFrom = (range: string, order: 'ASC' | 'DESC') =>
  `SELECT ${DM_COLUMNS} FROM (SELECT ${RAW_COLUMNS} FROM messages WHERE room IS NULL AND recipient_id = ? AND ${range} ` +
  `ORDER BY id ${order} LIMIT ?) AS received UNION ` +
  `SELECT ${DM_COLUMNS} FROM (SELECT ${RAW_COLUMNS} FROM messages WHERE room IS NULL AND user_id = ? AND ${range} ` +
  `ORDER BY id ${order} LIMIT ?) AS sent ORDER BY id ${order} LIMIT ?`;

/** Params: userId, afterId, limit + 1, userId, afterId, limit + 1, limit + 1. */
export const DMS_SINCE = toOrFrom('id > ?', 'DESC');

/** The oldest DMs to a user above its delivery cursor. Params: userId, userId, limit + 1. */
export const UNDELIVERED =
  `SELECT ${DM_COLUMNS} FROM messages WHERE room IS NULL AND recipient_id = ? ` +
  'AND id > (SELECT dm_delivered_id FROM users WHERE id = ?) ORDER BY id LIMIT ?';

/**
 * The user's conversations, newest first: per other user the newest DM between them. The other
 * user's nickname is their current one, else what the newest DM recorded for them.
 * Params: userId, userId, limit.
 */
export const CONVERSATIONS =
  'WITH mine (other, id) AS (' +
  'SELECT recipient_id, id FROM messages WHERE room IS NULL AND user_id = ? ' +
  'UNION ALL SELECT user_id, id FROM messages WHERE room IS NULL AND recipient_id = ?), ' +
  'latest (other, id) AS (SELECT other, MAX(id) FROM mine WHERE other IS NOT NULL GROUP BY other) ' +
  'SELECT latest.other AS "userId", COALESCE(users.nickname, CASE WHEN m.user_id = latest.other THEN m.nickname ELSE m.recipient END) AS "nickname", ' +
  'm.id, m.nickname AS "sender", m.recipient, m.body, m.sent_at AS "sentAt", m.client_msg_id AS "clientMsgId", ' +
  'm.user_id AS "senderId", m.recipient_id AS "recipientId", m.edited_at AS "editedAt", m.deleted_at AS "deletedAt" ' +
  'FROM latest JOIN messages m ON m.id = latest.id LEFT JOIN users ON users.id = latest.other ORDER BY latest.id DESC LIMIT ?';

/** One conversation (a user id, another user id, in both directions) in `range`, `order`ed, at most `limit`. */
const between = (range: string, order: 'ASC' | 'DESC') => {
  const side = (alias: string) =>
    `SELECT ${DM_COLUMNS} FROM (SELECT ${RAW_COLUMNS} FROM messages WHERE room IS NULL AND user_id = ? AND recipient_id = ?` +
    `${range ? ` AND ${range}` : ''} ORDER BY id ${order} LIMIT ?) AS ${alias}`;
  return `${side('one_way')} UNION ${side('other_way')} ORDER BY id ${order} LIMIT ?`;
};

// Keyset paging over one conversation, like the room pages. Params per side: sender, recipient,
// the range's values, limit + 1; then limit + 1.
export const DM_PAGE_NEWEST = between('', 'DESC');
export const DM_PAGE_BEFORE = between('id < ?', 'DESC');
export const DM_PAGE_AFTER = between('id > ?', 'ASC');
export const DM_PAGE_BETWEEN = between('id > ? AND id < ?', 'ASC');

/** A row of CONVERSATIONS: the other user, then the newest DM between the two. */
export type ConversationRow = DirectMessageRecord & { userId: string; nickname: string };

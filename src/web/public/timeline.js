// A conversation's timeline: every message loaded so far (by id) and the notices between them, in
// display order, as plain objects. Only a window of it is in the DOM at a time (scroller.js draws
// it), so a room scrolled back through 10,000 messages holds 10,000 small objects, not 10,000
// list items.
//
// Entries are sorted by `key`: a message's key is its id; a notice's is the newest id at the time
// it came plus 0.5, so it stays after the messages it followed and before later ones, wherever
// older messages are inserted later.
import { markDirty } from './scroller.js';

const NEWEST_SHOWN = 150; // entries drawn when jumping to the newest: a few screens

/** The timeline fields of a new conversation. */
export function createTimeline() {
  return {
    entries: [],
    messageCount: 0,
    lastId: 0,
    win: { start: 0, end: 0 }, // the entries in the DOM: [start, end)
    pending: [], // own messages not acknowledged yet: their list items, shown after the newest entry
    hasOlder: undefined, // whether the server has messages older than the oldest loaded (undefined: unknown)
    olderPending: 0, // the `before` of a history request on its way
    olderBlockedUntil: 0, // after a failed request: no new one before this time
  };
}

/** The index of the first entry whose key is larger than `key`. */
function upperBound(entries, key) {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid].key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inserts in key order and keeps the window on the same entries: an entry inserted above the
 * window shifts it; one inside it, or after its end while the window reaches the newest entry,
 * widens it (scroller.js trims it back to size when it draws).
 */
function insert(conv, entry) {
  const { entries, win } = conv;
  const at = upperBound(entries, entry.key);
  const length = entries.length;
  entries.splice(at, 0, entry);
  if (at < win.start || (at === win.start && win.start > 0)) {
    win.start += 1;
    win.end += 1;
  } else if (at < win.end || win.end === length) {
    win.end += 1;
  }
  markDirty(conv);
  return at;
}

export function findMessage(conv, id) {
  const entry = conv.entries[upperBound(conv.entries, id) - 1];
  return entry && entry.type === 'message' && entry.id === id ? entry : undefined;
}

/** The id of the oldest message loaded, or 0. */
export function oldestId(conv) {
  const first = conv.entries.find((entry) => entry.type === 'message');
  return first ? first.id : 0;
}

/**
 * Adds a message ({id, author, authorId (signed in), text, sentAt, editedAt, deleted}) once;
 * returns whether it was new. A page or replay that shows a loaded message edited or deleted
 * since updates it.
 */
export function addMessageEntry(conv, message) {
  if (!Number.isSafeInteger(message.id)) return false;
  const existing = findMessage(conv, message.id);
  if (existing) {
    if (message.deleted) changeMessage(conv, message.id, { deleted: true });
    else if (message.editedAt && message.editedAt !== existing.editedAt) changeMessage(conv, message.id, { text: message.text, editedAt: message.editedAt });
    return false;
  }
  const time = Date.parse(message.sentAt);
  const at = Number.isFinite(time) ? time : Date.now();
  const date = new Date(at);
  insert(conv, {
    type: 'message',
    key: message.id,
    id: message.id,
    author: message.author,
    authorId: message.authorId,
    text: message.deleted ? '' : message.text,
    editedAt: message.editedAt,
    deleted: message.deleted === true,
    time: at,
    day: `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`,
    node: null,
  });
  conv.messageCount += 1;
  conv.lastId = Math.max(conv.lastId, message.id);
  return true;
}

/**
 * A loaded message was edited ({text, editedAt}) or deleted ({deleted: true}): it is drawn again.
 * Returns whether this conversation had it. A deletion is final: a late edit does not undo it.
 */
export function changeMessage(conv, id, change) {
  const entry = findMessage(conv, id);
  if (!entry) return false;
  if (change.deleted) Object.assign(entry, { deleted: true, text: '', editedAt: undefined });
  else if (!entry.deleted) Object.assign(entry, { text: change.text, editedAt: change.editedAt });
  entry.node = null;
  markDirty(conv);
  return true;
}

/** Adds a notice after everything loaded so far. `entry` is {type: 'notice' | 'events', ...}. */
export function addNoticeEntry(conv, entry) {
  entry.key = conv.lastId + 0.5;
  entry.node = null;
  insert(conv, entry);
  return entry;
}

/** The newest entry (a group of membership events there takes more: notices.js). */
export function lastEntry(conv) {
  return conv.entries.at(-1);
}

/**
 * Notices that came before the first history page of a conversation that showed no message yet
 * (the welcome, say) move after that page: they belong where the live conversation began.
 */
export function settleEarlyNotices(conv, hadMessages) {
  if (hadMessages || conv.settled) return; // once: after a reset, the notice about it stays above the new page
  conv.settled = true;
  const early = conv.entries.filter((entry) => entry.type !== 'message' && entry.key < 1);
  if (early.length === 0) return;
  conv.entries = conv.entries.filter((entry) => !early.includes(entry));
  for (const entry of early) entry.key = conv.lastId + 0.5;
  conv.entries.push(...early);
  showNewest(conv);
}

/** Notes a history page: it tells whether older messages exist, when it reached below what was loaded. */
export function notePage(conv, messages, hasMore) {
  const oldest = oldestId(conv);
  const first = messages[0];
  if (oldest === 0 || (first && first.id <= oldest)) conv.hasOlder = hasMore === true;
}

/** Forgets every message (the server lost them); notices stay, before whatever comes next. */
export function clearMessageEntries(conv) {
  conv.entries = conv.entries.filter((entry) => entry.type !== 'message');
  for (const entry of conv.entries) entry.key = 0;
  conv.messageCount = 0;
  conv.lastId = 0;
  conv.hasOlder = undefined;
  conv.olderPending = 0;
  showNewest(conv);
}

/** Moves the window to the newest entries. */
export function showNewest(conv) {
  const length = conv.entries.length;
  conv.win = { start: Math.max(0, length - NEWEST_SHOWN), end: length };
  markDirty(conv);
}

export function addPending(conv, item) {
  conv.pending.push(item);
  markDirty(conv);
}

export function removePending(conv, item) {
  const at = conv.pending.indexOf(item);
  if (at >= 0) conv.pending.splice(at, 1);
  item.remove();
  markDirty(conv);
}

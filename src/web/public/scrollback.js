// Older messages of a room, fetched with the `history` event (`before` = the oldest id loaded)
// when the reader scrolls to the top of what is loaded (scroller.js decides when).
import { send } from './connection.js';
import { markDirty, showLoading } from './scroller.js';
import { awaitingHistory, rooms } from './state.js';
import { oldestId } from './timeline.js';

const OLDER_PAGE = 100;
const RETRY_MS = 5000; // after a failed request, scrolling asks again no sooner than this

export function requestOlder(conv) {
  // Only once a page has said older messages exist (hasOlder undefined: the room's first page is still coming).
  if (conv.kind !== 'room' || conv.olderPending || conv.hasOlder !== true || Date.now() < conv.olderBlockedUntil) return;
  if (awaitingHistory.has(conv.name)) return; // its join history comes first
  const before = oldestId(conv);
  if (before === 0 || !send('history', { room: conv.name, before, limit: OLDER_PAGE })) return;
  conv.olderPending = before;
  showLoading();
}

/** A history frame that answers requestOlder: older messages exist beyond it if it says so. */
export function olderPageCame(room, frame) {
  room.olderPending = 0;
  room.hasOlder = frame.hasMore === true;
  markDirty(room); // its messages, or the line that says where the room starts
  showLoading();
}

/** The requests on their way will not be answered (an error, or the connection dropped). */
export function olderPagesFailed(blockMs = RETRY_MS) {
  for (const room of rooms.values()) {
    if (!room.olderPending) continue;
    room.olderPending = 0;
    room.olderBlockedUntil = Date.now() + blockMs;
  }
  showLoading();
}

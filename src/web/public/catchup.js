// Catching up over REST: paging in what a resume or a join history left out, loading the recent
// history of a room that shows nothing yet, and noticing a server that lost its history.
import { fetchPage, fetchRooms } from './api.js';
import { addNotice, addRoomMessage, clearMessages } from './conversations.js';
import { gapFills, rooms, session } from './state.js';
import { saveState } from './storage.js';
import { notePage, settleEarlyNotices } from './timeline.js';
import { showError } from './ui.js';

const GAP_FILL_LIMIT = 200; // the most GET /api/messages hands out per page
const GAP_FILL_ATTEMPTS = 3;
const GAP_FILL_BACKOFF_MS = 1000;

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Pages in a room's messages with ids in (after, before) over REST, oldest first; `before`
 * undefined means up to the newest. Until it is done, a resume starts at most from its cursor.
 */
export function fillGap(room, after, before, countUnread) {
  const fill = { after, before };
  gapFills.set(room.name, fill);
  saveState();
  void pageThroughGap(room, fill, countUnread);
}

/** Runs until the gap is filled, the room is left, or a newer fill of the room replaces this one. */
async function pageThroughGap(room, fill, countUnread) {
  let failures = 0;
  const current = () => gapFills.get(room.name) === fill && rooms.get(room.name) === room;
  while (current()) {
    let page;
    try {
      page = await fetchPage(gapQuery(room, fill));
    } catch {
      failures += 1;
      if (failures >= GAP_FILL_ATTEMPTS) {
        // Left in gapFills: the next resume starts from its cursor and asks again.
        if (current()) showError(`Some earlier messages of #${room.name} could not be loaded right now.`);
        return;
      }
      await pause(GAP_FILL_BACKOFF_MS * failures);
      continue;
    }
    if (!current() || !applyGapPage(room, fill, page, countUnread)) return;
  }
}

function gapQuery(room, fill) {
  const params = { room: room.name, after: fill.after, limit: GAP_FILL_LIMIT };
  if (fill.before !== undefined) params.before = fill.before;
  return params;
}

/** Shows one page and moves the cursor past it; returns whether more pages are to come. */
function applyGapPage(room, fill, page, countUnread) {
  for (const message of page.messages) addRoomMessage(room, message, countUnread);
  const last = page.messages.at(-1);
  if (!page.hasMore || !last) {
    gapFills.delete(room.name);
    saveState();
    return false;
  }
  fill.after = last.id;
  saveState();
  return true;
}

/** The recent history of a room that shows nothing yet (after a reload, or a server reset): up to `before`. */
export async function loadRecent(room, before) {
  const load = {};
  room.recentLoad = load; // a later load (after a reset) decides whether the room is empty
  let page;
  try {
    page = await fetchPage(before === undefined ? { room: room.name } : { room: room.name, before });
  } catch {
    if (rooms.get(room.name) === room) showError(`The messages of #${room.name} could not be loaded right now.`);
    return;
  }
  if (rooms.get(room.name) !== room) return;
  const hadMessages = room.messageCount > 0;
  notePage(room, page.messages, page.hasMore);
  for (const message of page.messages) addRoomMessage(room, message, false);
  settleEarlyNotices(room, hadMessages);
  if (room.recentLoad === load && room.messageCount === 0) addNotice(room, `No messages in #${room.name} yet.`, 'info');
}

/**
 * A resume that replayed nothing may have met a server that lost its history (since is past
 * its newest message): then what is shown no longer exists, and new messages reuse old ids.
 */
export async function checkWiped(done) {
  let newest = 0;
  try {
    for (const room of await fetchRooms()) {
      if (Number.isSafeInteger(room.lastMessageId)) newest = Math.max(newest, room.lastMessageId);
    }
  } catch {
    return;
  }
  if (session.resume === done && newest < done.since) onWiped();
}

/** The server's history was reset: show what it has now, and resume from there next time. */
export function onWiped() {
  const { resume } = session;
  if (!resume || resume.wiped) return;
  resume.wiped = true;
  session.lastSeenId = 0;
  gapFills.clear();
  for (const room of rooms.values()) {
    clearMessages(room);
    addNotice(room, 'The server no longer has the earlier messages. Showing the messages it has now.', 'info');
    void loadRecent(room);
  }
  saveState();
}

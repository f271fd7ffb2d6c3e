// What survives a reload: the last seen id and the rooms (per origin, in localStorage), and this
// tab's chosen nickname and reconnect token (per tab, in sessionStorage, so two tabs do not fight
// over one name).
import { gapFills, isRoomName, rooms, session } from './state.js';

const RESUME_KEY = 'chat.resume';
const NICK_KEY = 'chat.nickname';
const TOKEN_KEY = 'chat.reconnectToken';

export function saveState() {
  try {
    localStorage.setItem(RESUME_KEY, JSON.stringify({ lastSeenId: resumePoint(), rooms: [...rooms.keys()] }));
  } catch {
    // storage disabled or full: a reload then starts afresh
  }
}

/** Where a resume starts: the last seen id, or earlier while older messages are still being paged in. */
export function resumePoint() {
  let point = session.lastSeenId;
  for (const fill of gapFills.values()) point = Math.min(point, fill.after);
  return point;
}

/** Sets the last seen id and nickname kept before a reload; returns the rooms the page was in. */
export function restoreState() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(RESUME_KEY) || 'null');
  } catch {
    // unreadable: start afresh
  }
  try {
    session.chosenNick = sessionStorage.getItem(NICK_KEY) || '';
    session.reconnectToken = sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    session.chosenNick = '';
    session.reconnectToken = '';
  }
  if (!saved || typeof saved !== 'object') return [];
  if (Number.isSafeInteger(saved.lastSeenId) && saved.lastSeenId > 0) session.lastSeenId = saved.lastSeenId;
  return Array.isArray(saved.rooms) ? saved.rooms.filter(isRoomName) : [];
}

export function saveNick(nickname) {
  try {
    sessionStorage.setItem(NICK_KEY, nickname);
  } catch {
    // not kept across a reload then
  }
}

/** The server's single-use token for taking this connection's nickname back on the next connect. */
export function saveToken(token) {
  session.reconnectToken = token;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // kept for reconnects of this page, not across a reload
  }
}

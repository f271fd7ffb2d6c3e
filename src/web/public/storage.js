// What survives a reload: the last seen id and the rooms (per origin, in localStorage; signed in,
// per user as well), and this tab's chosen nickname and reconnect token (per tab, in
// sessionStorage, so two tabs do not fight over one name; not used signed in).
import { gapFills, isRoomName, rooms, session } from './state.js';

const RESUME_KEY = 'chat.resume';
const NICK_KEY = 'chat.nickname';
const TOKEN_KEY = 'chat.reconnectToken';

let resumeKey = RESUME_KEY; // signed in: chat.resume:<user id>, so that users of one browser do not share it

export function saveState() {
  if (!resumeKey) return;
  try {
    localStorage.setItem(resumeKey, JSON.stringify({ lastSeenId: resumePoint(), rooms: [...rooms.keys()] }));
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

/**
 * Sets the last seen id and nickname kept before a reload; returns the rooms the page was in.
 * Signed in (`signedIn`), the name comes from the token, and what is kept is `userId`'s (nothing
 * when the token names no user).
 */
export function restoreState({ signedIn = false, userId = '' } = {}) {
  if (signedIn) resumeKey = userId ? `${RESUME_KEY}:${userId}` : '';
  let saved = null;
  try {
    saved = resumeKey ? JSON.parse(localStorage.getItem(resumeKey) || 'null') : null;
  } catch {
    // unreadable: start afresh
  }
  try {
    session.chosenNick = signedIn ? '' : sessionStorage.getItem(NICK_KEY) || '';
    session.reconnectToken = signedIn ? '' : sessionStorage.getItem(TOKEN_KEY) || '';
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

// The client's shared state: its conversations, its unacknowledged sends, and where a resume starts.
// ES module bindings cannot be reassigned by importers, so scalars live as fields of `session`.

export const GENERAL = 'general';
export const ROOM_NAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]*$/u;
export const ROOM_NAME_RULE = 'Room names are 1 to 64 letters, digits, "_", "-" or ".", without spaces.';

export const session = {
  me: '',
  chosenNick: '', // asked for again after a connect that did not get it back (no token, or it expired)
  reconnectToken: '', // the last welcome's: the next connect gets this connection's nickname back
  reclaiming: '', // the chosen nickname asked for again after a (re)connect, until the answer comes
  nickAction: 0, // the user's last rename request (ui.js beginAction)
  // The highest room message id received over the socket (live, replayed or in a history frame).
  // Every room message up to it that matters has been seen, so a resume from it misses nothing.
  lastSeenId: 0,
  // The resume of the current connection, or null for a plain connect:
  // {since, rooms, replayed, gaps: rooms that got a gap frame, done: `resumed` came, wiped}.
  resume: null,
  visible: null, // the conversation on screen
  peopleRoom: null, // the room whose members are listed: the visible one, or the last while a DM is open
};

// Conversations: the rooms this user is in (re-joined after a reconnect) and direct ones by peer.
export const rooms = new Map();
export const dms = new Map();
export const awaitingHistory = new Set(); // rooms whose join (or welcome) history has not arrived yet
// room -> {after, before}: missing messages being paged in over REST (after advances per page).
export const gapFills = new Map();
// clientMsgId -> {clientMsgId, conv, text, item, state, sentOn}: own messages not acknowledged yet,
// in the order they were written. Kept across reconnects and resent with the same clientMsgId.
export const pending = new Map();

export function title(conv) {
  return conv.kind === 'room' ? `#${conv.name}` : `@${conv.name}`;
}

/** Whether the conversation is still in the room or DM list (it may have been left or renamed away). */
export function isOpen(conv) {
  return (conv.kind === 'room' ? rooms : dms).get(conv.name) === conv;
}

export function isRoomName(name) {
  return typeof name === 'string' && ROOM_NAME.test(name) && [...name].length <= 64;
}

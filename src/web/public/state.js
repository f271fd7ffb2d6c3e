// The client's shared state: its conversations, its unacknowledged sends, and where a resume starts.
// ES module bindings cannot be reassigned by importers, so scalars live as fields of `session`.

export const GENERAL = 'general';
export const ROOM_NAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]*$/u;
export const ROOM_NAME_RULE = 'Room names are 1 to 64 letters, digits, "_", "-" or ".", without spaces.';

export const session = {
  me: '',
  userId: '', // signed in (jwt mode): the user's id, the token's `sub`; '' in anonymous mode
  // Signed in, on a server that keeps each user's rooms (its welcome names the user id): the rooms
  // of welcome.rooms are this user's, wherever they were joined or left.
  userRooms: false,
  admin: false, // signed in with the role `admin` (welcome.roles): may delete anyone's message
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
// Rooms this page left on the current connection: a late frame of theirs (the answer to a request
// made before the leave) is not taken for a join on another device (frames.js joinedElsewhere).
export const leftHere = new Set();
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
  return conv.kind === 'room' ? rooms.get(conv.name) === conv : dms.get(conv.key) === conv;
}

/** Whether a message is this user's: by user id when both are known (names are not unique signed in), else by name. */
export function isMine(author, authorId) {
  return authorId && session.userId ? authorId === session.userId : author === session.me;
}

// Signed in: the user ids seen under each nickname. Display names are not unique, so a name opens a
// direct conversation by id only when exactly one id is known for it.
const idsByName = new Map();

export function noteUserId(name, id) {
  if (typeof name !== 'string' || typeof id !== 'string' || id === '') return;
  let ids = idsByName.get(name);
  if (!ids) idsByName.set(name, (ids = new Set()));
  ids.add(id);
}

/** Names and their ids, index for index (welcome, presence). */
export function noteUserIds(names, ids) {
  if (!Array.isArray(names) || !Array.isArray(ids)) return;
  names.forEach((name, i) => noteUserId(name, ids[i]));
}

/** The one user id known for `name`, or undefined when none or several are. */
export function soleUserId(name) {
  const ids = idsByName.get(name);
  return ids && ids.size === 1 ? [...ids][0] : undefined;
}

export function isRoomName(name) {
  return typeof name === 'string' && ROOM_NAME.test(name) && [...name].length <= 64;
}

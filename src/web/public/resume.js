// The frames that start a connection: `welcome`, and for a resume `gap`, `resumed` or its `error`.
import { isSignedInMode, tokenUserId } from './auth.js';
import { checkWiped, fillGap, loadRecent } from './catchup.js';
import { fillDirectGap, listConversations } from './direct-history.js';
import { markWelcomed, send } from './connection.js';
import { addNotice, ensureRoom, loadVisibility, removeRoom, show } from './conversations.js';
import { applyPresence, resetMembers } from './members.js';
import { resendPending } from './outbox.js';
import { refreshOnline } from './online.js';
import { renderMe, renderPeople } from './render.js';
import { awaitingHistory, gapFills, GENERAL, leftHere, noteUserIds, rooms, session } from './state.js';
import { saveState, saveToken } from './storage.js';

/**
 * A resumed connection is in the rooms it asked for and gets everything after `since` replayed;
 * a plain one starts in general only, so the other rooms are joined again (with their history).
 * Signed in, on a server that keeps the user's rooms, the connection is in all of them: the page
 * takes welcome.rooms as they are.
 */
export function onWelcome(frame) {
  const reconnected = markWelcomed();
  session.me = frame.nickname;
  session.reclaiming = '';
  leftHere.clear();
  if (isSignedInMode()) {
    session.userId = typeof frame.userId === 'string' ? frame.userId : tokenUserId();
    session.userRooms = typeof frame.userId === 'string';
    session.admin = Array.isArray(frame.roles) && frame.roles.includes('admin');
    noteUserIds(frame.users, frame.userIds);
  } else {
    // Single use: the next connect needs this connection's token.
    if (typeof frame.reconnectToken === 'string') saveToken(frame.reconnectToken);
    // The rename goes first, so the re-joins below are announced under the chosen name.
    if (session.chosenNick && session.chosenNick !== session.me && send('nick', { nickname: session.chosenNick })) {
      session.reclaiming = session.chosenNick;
    }
  }
  renderMe();
  refreshOnline();
  const general = ensureRoom(GENERAL);
  const joined = new Set(Array.isArray(frame.rooms) ? frame.rooms : [GENERAL]);
  for (const name of joined) ensureRoom(name);
  rejoinRooms(joined);
  // Until general's `presence` comes: who is online (the first 1000), and how many, in any room.
  applyPresence(general, frame.users, frame.usersTotal, 0);
  // Presence: the welcome lists everyone online, who may not all be in general; a resume sends none.
  for (const name of joined) send('who', { room: name });
  // Not the guest name of a connection that is about to take its chosen name back.
  const greeting = session.reclaiming ? `Welcome back, ${session.reclaiming}.` : frame.message;
  addNotice(general, reconnected ? 'Reconnected.' : greeting, 'welcome');
  if (!session.visible) show(general);
  renderPeople();
  if (isSignedInMode()) {
    void loadVisibility(); // which rooms are private (GET /api/rooms)
    void listConversations(); // the direct conversations kept by the server (GET /api/dm)
  }
  if (!session.resume) resendPending();
}

/**
 * Every room not replayed by a resume waits for its history; those the server has not put us in
 * are joined again. Signed in on a server that keeps the user's rooms, a room it has not put us in
 * was left (or we were removed) elsewhere, so it goes; and one a resume did not ask for was joined
 * elsewhere meanwhile, so its history is asked for.
 */
function rejoinRooms(joined) {
  const { resume } = session;
  awaitingHistory.clear();
  for (const room of [...rooms.values()]) {
    resetMembers(room);
    if (session.userRooms && !joined.has(room.name) && room.name !== GENERAL) {
      removeRoom(room);
      continue;
    }
    if (resume && joined.has(room.name) && resume.rooms.includes(room.name)) continue; // replayed
    awaitingHistory.add(room.name);
    if (!joined.has(room.name)) send('join', { room: room.name });
    else if (resume && session.userRooms) send('history', { room: room.name });
  }
}

/** A resume left out more than the server replays: page in the rest over REST. */
export function onGap(frame) {
  const { resume } = session;
  // Signed in: more direct messages were missed than a resume replays.
  if (frame.direct === true && resume && !resume.done && Number.isSafeInteger(frame.afterId) && Number.isSafeInteger(frame.beforeId)) {
    return void fillDirectGap(frame.afterId, frame.beforeId);
  }
  const room = rooms.get(frame.room);
  if (!room || !resume || resume.done || !Number.isSafeInteger(frame.afterId) || !Number.isSafeInteger(frame.beforeId)) return;
  resume.gaps.add(room.name);
  fillGap(room, frame.afterId, frame.beforeId, room.loaded);
}

/** The replay is complete: the page is caught up. Rooms new to the page get their earlier history. */
export function onResumed() {
  const done = session.resume;
  if (!done || done.done) return;
  done.done = true;
  for (const name of done.rooms) {
    const room = rooms.get(name);
    if (!room) continue;
    // Replayed from at most the old cursor on: an older paging of this room is covered.
    if (!done.gaps.has(name)) gapFills.delete(name);
    loadIfNew(room, done.since);
  }
  saveState();
  if (done.replayed === 0) void checkWiped(done);
  resendPending();
}

/** The store could not replay (UNAVAILABLE: in the rooms, nothing replayed) or the resume was refused. */
export function onResumeFailed(frame) {
  const failed = session.resume;
  if (!failed || failed.done) return;
  session.resume = null;
  if (frame.code === 'UNAVAILABLE') {
    for (const name of failed.rooms) {
      const room = rooms.get(name);
      if (!room) continue;
      fillGap(room, failed.since, undefined, room.loaded);
      loadIfNew(room, failed.since);
    }
  } else if (session.userRooms) {
    // A plain connect follows: the history of every one of the user's rooms comes.
    for (const name of rooms.keys()) awaitingHistory.add(name);
  } else {
    // A plain connect follows: general's history comes, and the other rooms were joined again.
    awaitingHistory.add(GENERAL);
  }
  resendPending();
}

/** A room the page shows nothing of yet (it came with the reload) gets its history up to the resume point. */
function loadIfNew(room, since) {
  if (room.loaded) return;
  room.loaded = true;
  void loadRecent(room, since + 1);
}

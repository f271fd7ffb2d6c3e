// Inbound frames (docs/protocol.md): one handler per frame type. The connection-start frames are in
// resume.js and `error` in errors.js.
import { onAuthOk } from './auth.js';
import { fillGap, onWiped } from './catchup.js';
import { directMessage } from './direct-history.js';
import { addMessage, addNotice, addRoomMessage, ensureDm, ensureRoom, loadVisibility, relabel, removeRoom, setPrivate, show } from './conversations.js';
import { onError } from './errors.js';
import { applyDiff, applyJoin, applyLeave, applyPresence, renameMember } from './members.js';
import { addEvent } from './notices.js';
import { noteOnline, refreshOnlineSoon, renameOnline } from './online.js';
import { settle } from './outbox.js';
import { renderMe, renderPeople } from './render.js';
import { onGap, onResumed, onResumeFailed, onWelcome } from './resume.js';
import { olderPageCame } from './scrollback.js';
import { redrawAll } from './scroller.js';
import { awaitingHistory, dms, GENERAL, isMine, isOpen, isRoomName, leftHere, noteUserId, noteUserIds, rooms, session } from './state.js';
import { saveNick, saveState } from './storage.js';
import { changeMessage, notePage, settleEarlyNotices } from './timeline.js';
import { showTyping, stopTyping } from './typing.js';
import { actionSucceeded, showError, ui } from './ui.js';

export function handleFrame(frame) {
  switch (frame.type) {
    case 'welcome':
      return onWelcome(frame);
    case 'history':
      return onHistory(frame);
    case 'message':
      return onMessage(frame);
    case 'ack':
      return onAck(frame);
    case 'gap':
      return onGap(frame);
    case 'resumed':
      return onResumed();
    case 'notification':
      return onNotification(frame);
    case 'presence':
      return onPresence(frame);
    case 'presence_diff':
      return onPresenceDiff(frame);
    case 'nick_update':
      return onNickUpdate(frame);
    case 'direct':
      return onDirect(frame);
    case 'typing':
      return onTyping(frame);
    case 'auth_ok':
      return onAuthOk(frame);
    case 'invited':
      return onInvited(frame);
    case 'removed':
      return onRemoved(frame);
    case 'message_edited':
      return onChanged(frame, { text: String(frame.message ?? ''), editedAt: frame.editedAt });
    case 'message_deleted':
      return onChanged(frame, { deleted: true });
    case 'error':
      return frame.event === 'resume' ? onResumeFailed(frame) : onError(frame);
  }
}

/**
 * An edit or deletion: applied to the message wherever it is loaded (a room's, or without `room` a
 * direct message's, found by its id). One not loaded is nothing to show: a page that loads it
 * later has it as it is now.
 */
function onChanged(frame, change) {
  if (!Number.isSafeInteger(frame.id)) return;
  if (frame.room !== undefined) {
    const room = rooms.get(frame.room);
    if (room) changeMessage(room, frame.id, change);
    return;
  }
  for (const conv of dms.values()) if (changeMessage(conv, frame.id, change)) return;
}

function onHistory(frame) {
  const room = rooms.get(frame.room || GENERAL) ?? joinedElsewhere(frame.room);
  if (!room) return;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  if (!awaitingHistory.has(room.name) && room.olderPending) {
    // The answer to a scroll back (scrollback.js): older messages, none of them news.
    olderPageCame(room, frame);
    for (const message of messages) receiveRoomMessage(room, message, false);
    return;
  }
  const hadMessages = room.messageCount > 0;
  if (awaitingHistory.delete(room.name)) {
    // After a long disconnect the first page may start past what we saw: page through the gap.
    const first = messages[0];
    if (room.lastId > 0 && frame.hasMore && first && first.id > room.lastId + 1) {
      fillGap(room, room.lastId, first.id, room.loaded);
    }
    if (!room.loaded && messages.length === 0) addNotice(room, `No messages in #${room.name} yet.`, 'info');
    notePage(room, messages, frame.hasMore);
    actionSucceeded(room.joinSeq);
  }
  for (const message of messages) receiveRoomMessage(room, message, room.loaded);
  settleEarlyNotices(room, hadMessages);
  room.loaded = true;
}

/**
 * Signed in, a join on another device of the user puts this connection in the room too: its
 * history comes unasked, first of the frames of the join. Returns the room, or undefined. A room
 * this page left is not taken back this way (the frame may answer a request made before the leave).
 */
function joinedElsewhere(name) {
  if (!session.userRooms || !isRoomName(name) || leftHere.has(name)) return undefined;
  awaitingHistory.add(name);
  const room = ensureRoom(name);
  void loadVisibility(); // it may be a private room created there
  return room;
}

function onMessage(frame) {
  noteUserId(frame.nickname, frame.userId);
  const { resume } = session;
  if (resume) {
    if (!resume.done) resume.replayed += 1;
    // After a resume every new message is newer than `since`, unless the server lost its history.
    else if (frame.id <= resume.since) onWiped();
  }
  const room = rooms.get(frame.room || GENERAL);
  if (!room) return;
  stopTyping(room, frame.nickname);
  receiveRoomMessage(room, frame, room.loaded);
}

/** A room message that came over the socket: it moves the resume point, even when already shown. */
function receiveRoomMessage(room, frame, countUnread) {
  if (Number.isSafeInteger(frame.id) && frame.id > session.lastSeenId) {
    session.lastSeenId = frame.id;
    saveState();
  }
  addRoomMessage(room, frame, countUnread);
}

/** Stored under `id`: shown at once (its broadcast, if any, is then a duplicate and skipped). */
function onAck(frame) {
  const entry = settle(frame.clientMsgId);
  if (!entry || !isOpen(entry.conv) || !Number.isSafeInteger(frame.id)) return;
  const message = { id: frame.id, author: session.me, authorId: session.userId || undefined, text: entry.text, sentAt: new Date().toISOString() };
  addMessage(entry.conv, message, false);
}

/**
 * A direct message, live or (signed in) one that waited for this user while they were away: it
 * comes right after the welcome, and counts as unread like any other. Signed in, the conversation
 * is the peer's by user id (fromId, toId), so two users who share a name stay apart.
 */
function onDirect(frame) {
  if (frame.deleted) {
    // A tombstone (a replay): whose conversation, by the ids it still carries.
    const peerId = frame.fromId === session.userId ? frame.toId : frame.fromId;
    const conv = dms.get(peerId);
    if (conv) addMessage(conv, directMessage(frame), false);
    return;
  }
  noteUserId(frame.from, frame.fromId);
  noteUserId(frame.to, frame.toId);
  const mine = isMine(frame.from, frame.fromId);
  const peer = mine ? frame.to : frame.from;
  const peerId = mine ? frame.toId : frame.fromId;
  if (mine) settle(frame.clientMsgId);
  addMessage(ensureDm(peer, typeof peerId === 'string' ? peerId : undefined), directMessage(frame), true);
}

/** Signed in: the owner of a private room (or an admin) made this user a member; the room's history, presence and join follow. */
function onInvited(frame) {
  if (!isRoomName(frame.room)) return;
  leftHere.delete(frame.room);
  const known = rooms.has(frame.room);
  const room = ensureRoom(frame.room);
  setPrivate(room, true);
  if (!known) awaitingHistory.add(room.name);
  addNotice(room, `${frame.by} added you to #${room.name}, a private room.`, 'info');
}

/** Signed in: taken out of a private room by its owner or an admin; nothing more comes from it. */
function onRemoved(frame) {
  const room = rooms.get(frame.room);
  if (!room) return;
  removeRoom(room);
  showError(`${frame.by} removed you from the private room #${frame.room}.`);
}

function onNotification(frame) {
  const room = rooms.get(frame.room || GENERAL);
  if (!room) return;
  const { nickname } = frame;
  noteUserId(nickname, frame.userId);
  const own = isMine(nickname, frame.userId);
  // Signed in: this user left the room on another device, and so did this connection.
  if (frame.event === 'leave' && own && session.userRooms) return removeRoom(room);
  if (frame.event === 'join') {
    applyJoin(room, nickname);
    noteOnline(nickname);
  }
  if (frame.event === 'leave') {
    applyLeave(room, nickname);
    stopTyping(room, nickname);
    refreshOnlineSoon(); // gone from this room; maybe from the server
  }
  // Your own join is not news (and after a reconnect it would only repeat what is on screen).
  if ((frame.event === 'join' || frame.event === 'leave') && !(own && frame.event === 'join')) addEvent(room, { kind: frame.event, nickname });
  if (room === session.peopleRoom) renderPeople();
}

function onPresence(frame) {
  const room = rooms.get(frame.room);
  if (!room) return;
  noteUserIds(frame.users, frame.userIds);
  applyPresence(room, frame.users, frame.usersTotal, frame.offset);
  if (Array.isArray(frame.users)) for (const name of frame.users) noteOnline(name);
  if (room === session.peopleRoom) renderPeople();
}

/** A large room's joins and leaves since the last diff; no notice each, they come in hundreds. */
function onPresenceDiff(frame) {
  const room = rooms.get(frame.room);
  if (!room) return;
  noteUserIds(frame.joins, frame.joinIds);
  applyDiff(room, frame);
  if (Array.isArray(frame.joins)) for (const name of frame.joins) noteOnline(name);
  if (Array.isArray(frame.leaves) && frame.leaves.length > 0) {
    for (const name of frame.leaves) stopTyping(room, name);
    refreshOnlineSoon();
  }
  if (room === session.peopleRoom) renderPeople();
}

function onNickUpdate(frame) {
  const { previous, nickname } = frame;
  // Taking the chosen name back after a reconnect is not news either.
  const reclaimed = previous === session.me && nickname === session.reclaiming;
  if (previous === session.me) adoptNick(nickname);
  if (previous === nickname) return; // a no-op rename, confirmed to us only
  renameOnline(previous, nickname);
  for (const room of rooms.values()) {
    if (!renameMember(room, previous, nickname)) continue;
    stopTyping(room, previous);
    if (!reclaimed) addEvent(room, { kind: 'nick', nickname, previous });
  }
  renameDm(previous, nickname);
  renderPeople();
}

/** Our own rename: kept for this tab, and re-applied after a reconnect. */
function adoptNick(nickname) {
  if (session.reclaiming !== nickname) actionSucceeded(session.nickAction);
  session.reclaiming = '';
  session.me = nickname;
  session.chosenNick = nickname;
  saveNick(nickname);
  ui.nickInput.value = '';
  renderMe();
  redrawAll(); // mentions are highlighted by name
}

/** A direct conversation follows its peer's rename, unless one with the new name is already open. */
function renameDm(previous, nickname) {
  const conv = dms.get(previous);
  if (!conv || dms.has(nickname)) return;
  dms.delete(previous);
  conv.name = nickname;
  conv.key = nickname; // anonymous: keyed by name
  dms.set(nickname, conv);
  addEvent(conv, { kind: 'nick', nickname, previous });
  relabel(conv);
  if (conv === session.visible) show(conv);
}

function onTyping(frame) {
  const room = rooms.get(frame.room);
  if (!room || isMine(frame.nickname, frame.userId)) return;
  showTyping(room, frame.nickname);
}

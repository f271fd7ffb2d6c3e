// Conversations (rooms and direct messages): their entries in the lists, their message logs, and
// which one is on screen.
import { fetchRooms } from './api.js';
import { isSignedInMode } from './auth.js';
import { send } from './connection.js';
import { loadRecentDirect } from './direct-history.js';
import { createMembers, refreshIfStale } from './members.js';
import { noticeItem } from './message-view.js';
import { dropPendingOf, settle } from './outbox.js';
import { renderDirectory, renderPeople, renderTyping, updateTitle } from './render.js';
import { drawShown, onScroll, saveScroll } from './scroller.js';
import { awaitingHistory, dms, GENERAL, gapFills, isMine, leftHere, rooms, session, soleUserId, title } from './state.js';
import { saveState } from './storage.js';
import { addMessageEntry, addNoticeEntry, clearMessageEntries, createTimeline } from './timeline.js';
import { clearTypers } from './typing.js';
import { actionSucceeded, beginAction, showError, ui } from './ui.js';
import * as view from './view.js';

/** `key`: a DM's key in `dms`, the peer's user id when known (signed in), else its nickname. */
function createConversation(kind, name, key = name) {
  const conv = { kind, name, key, ...createTimeline(), unread: 0, pinned: true, scrollTop: 0, private: false };
  conv.log = view.createLog('');
  conv.log.addEventListener('scroll', () => onScroll(conv), { passive: true });
  conv.refs = view.conversationEntry(kind === 'room' ? 'room-item' : 'dm-item', name, kind === 'room' ? 'room' : 'peer');
  if (kind === 'room') Object.assign(conv, createMembers(), { typers: new Map(), loaded: false, typingSentAt: 0 });
  relabel(conv);
  return conv;
}

/** Brings the conversation's list entry and log label up to date (name, unread count, whether current). */
export function relabel(conv) {
  conv.log.setAttribute('aria-label', `Messages in ${title(conv)}`);
  if (conv.kind === 'room') conv.refs.item.dataset.room = conv.name;
  else conv.refs.item.dataset.peer = conv.key;
  if (conv.peerId) conv.refs.button.title = `User id: ${conv.peerId}`;
  view.updateEntry(conv.refs, title(conv), conv.unread, conv === session.visible, conv.private);
}

export function ensureRoom(name) {
  let room = rooms.get(name);
  if (!room) {
    room = createConversation('room', name);
    rooms.set(name, room);
    ui.roomList.append(room.refs.item);
    saveState();
  }
  return room;
}

/**
 * The direct conversation with `peer` (a nickname); signed in, with `peerId` when it is known, so
 * that two users who share a name are two conversations. A conversation opened by name before the
 * id was known takes the id on.
 */
export function ensureDm(peer, peerId) {
  const key = peerId || peer;
  let conv = dms.get(key);
  if (!conv && peerId && dms.get(peer)?.peerId === '') {
    conv = dms.get(peer);
    dms.delete(peer);
    conv.key = key;
    conv.peerId = peerId;
    dms.set(key, conv);
    relabel(conv);
  }
  if (!conv) {
    conv = createConversation('dm', peer, key);
    conv.peerId = peerId || '';
    relabel(conv);
    dms.set(key, conv);
    ui.dmList.append(conv.refs.item);
    ui.dmHeading.hidden = false;
    const text = isSignedInMode()
      ? `Your direct messages with ${peer}${peerId ? ` (user id ${peerId})` : ''}.`
      : `Direct messages with ${peer} reach them only while they are online, and are not kept in history.`;
    addNotice(conv, text, 'info');
  } else if (conv.name !== peer) {
    conv.name = peer; // their current name
    relabel(conv);
    if (conv === session.visible) showHeader(conv);
  }
  return conv;
}

/** Puts a conversation on screen, restoring where its list was scrolled to. */
export function show(conv) {
  const previous = session.visible;
  if (previous && previous.log.isConnected) saveScroll(previous);
  session.visible = conv;
  conv.unread = 0;
  if (conv.kind === 'room') {
    session.peopleRoom = conv;
    refreshIfStale(conv);
  } else if (isSignedInMode()) {
    void loadRecentDirect(conv); // once: what the server kept of the conversation
  }
  ui.logHost.replaceChildren(conv.log);
  drawShown(conv);
  if (previous && previous !== conv) relabel(previous);
  relabel(conv);
  showHeader(conv);
  renderPeople();
  renderTyping();
  updateTitle();
}

/** The title, the composer's placeholder and the Leave (room) or Close (DM) button of the visible conversation. */
function showHeader(conv) {
  const isRoom = conv.kind === 'room';
  ui.title.textContent = title(conv);
  ui.titleLock.hidden = !conv.private;
  ui.input.placeholder = `Message ${title(conv)}`;
  ui.leaveButton.hidden = isRoom && conv.name === GENERAL;
  ui.leaveButton.textContent = isRoom ? 'Leave' : 'Close';
  ui.leaveButton.setAttribute('aria-label', isRoom ? `Leave ${title(conv)}` : `Close the conversation with ${conv.name}`);
}

export function joinRoom(name) {
  const existing = rooms.get(name);
  if (existing) return show(existing);
  if (!send('join', { room: name })) return showError('Not connected. Try again once reconnected.');
  leftHere.delete(name);
  awaitingHistory.add(name);
  const room = ensureRoom(name);
  room.joinSeq = beginAction();
  show(room);
  renderDirectory();
}

/** A name clicked in a people list; signed in, by user id when that name has only one. */
export function openDm(peer) {
  show(ensureDm(peer, isSignedInMode() ? soleUserId(peer) : undefined));
  ui.input.focus();
}

/** Leaves the visible room (the server stops sending its frames) or closes the visible DM. */
export function closeVisible() {
  const conv = session.visible;
  if (!conv || (conv.kind === 'room' && conv.name === GENERAL)) return;
  if (conv.kind === 'room') leaveRoom(conv);
  else {
    dms.delete(conv.key);
    ui.dmHeading.hidden = dms.size === 0;
  }
  conv.refs.item.remove();
  dropPendingOf(conv);
  actionSucceeded(beginAction()); // leaving needs no answer: it is done
  const { peopleRoom } = session;
  show(peopleRoom && peopleRoom !== conv ? peopleRoom : ensureRoom(GENERAL));
  renderDirectory();
}

function leaveRoom(room) {
  send('leave', { room: room.name }); // when offline there is nothing to leave: it is just not re-joined
  leftHere.add(room.name);
  rooms.delete(room.name);
  awaitingHistory.delete(room.name);
  gapFills.delete(room.name);
  clearTypers(room);
  saveState();
}

/** Forgets a room that is not on screen (its first join failed). */
export function forgetRoom(room) {
  rooms.delete(room.name);
  room.refs.item.remove();
  dropPendingOf(room);
}

/** Signed in: the user is out of a room (left on another device, or removed from a private room). */
export function removeRoom(room) {
  if (rooms.get(room.name) !== room) return;
  rooms.delete(room.name);
  awaitingHistory.delete(room.name);
  gapFills.delete(room.name);
  clearTypers(room);
  room.refs.item.remove();
  dropPendingOf(room);
  saveState();
  if (session.visible === room) show(ensureRoom(GENERAL));
  else if (session.peopleRoom === room) {
    session.peopleRoom = ensureRoom(GENERAL);
    renderPeople();
  }
  renderDirectory();
}

/** Marks a room private (a lock in the list and the header) or not. */
export function setPrivate(room, isPrivate) {
  if (room.private === isPrivate) return;
  room.private = isPrivate;
  relabel(room);
  if (room === session.visible) showHeader(room);
}

/** Signed in: which of the user's rooms are private, from GET /api/rooms (it lists them to their members). */
export async function loadVisibility() {
  let list;
  try {
    list = await fetchRooms();
  } catch {
    return; // no lock until the next connect; the rooms work the same
  }
  for (const { name, visibility } of list) {
    const room = rooms.get(name);
    if (room && (visibility === 'private' || visibility === 'public')) setPrivate(room, visibility === 'private');
  }
}

/**
 * Adds a message once (by id), in id order; counts it as unread when it lands in a conversation
 * not on screen.
 */
export function addMessage(conv, message, countUnread) {
  if (!addMessageEntry(conv, message)) return;
  if (countUnread && conv !== session.visible && !isMine(message.author, message.authorId)) {
    conv.unread += 1;
    relabel(conv);
    updateTitle();
  }
}

/** A stored room message (a frame or a REST page entry): it settles its pending send, if any, and is shown. */
export function addRoomMessage(room, message, countUnread) {
  settle(message.clientMsgId);
  const entry = {
    id: message.id,
    author: message.nickname ?? '',
    authorId: message.userId,
    text: message.message ?? '',
    sentAt: message.sentAt,
    editedAt: message.editedAt,
    deleted: message.deleted === true,
  };
  addMessage(room, entry, countUnread);
}

/** Removes every message of a conversation (the server lost them). */
export function clearMessages(conv) {
  clearMessageEntries(conv);
}

export function addNotice(conv, text, kind) {
  addNoticeEntry(conv, { type: 'notice', build: () => noticeItem(text, kind) });
}

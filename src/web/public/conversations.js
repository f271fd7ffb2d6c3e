// Conversations (rooms and direct messages): their entries in the lists, their message logs, and
// which one is on screen.
import { send } from './connection.js';
import { createMembers, refreshIfStale } from './members.js';
import { dropPendingOf, settle } from './outbox.js';
import { renderDirectory, renderPeople, renderTyping, updateUnreadTitle } from './render.js';
import { awaitingHistory, dms, GENERAL, gapFills, rooms, session, title } from './state.js';
import { saveState } from './storage.js';
import { clearTypers } from './typing.js';
import { showError, ui } from './ui.js';
import * as view from './view.js';

function createConversation(kind, name) {
  // order: the ids shown, ascending; nodes: id -> its list item.
  const conv = { kind, name, order: [], nodes: new Map(), lastId: 0, unread: 0, pinned: true, scrollTop: 0 };
  conv.log = view.createLog('');
  conv.refs = view.conversationEntry(kind === 'room' ? 'room-item' : 'dm-item', name, kind === 'room' ? 'room' : 'peer');
  if (kind === 'room') Object.assign(conv, createMembers(), { typers: new Map(), loaded: false, typingSentAt: 0 });
  relabel(conv);
  return conv;
}

/** Brings the conversation's list entry and log label up to date (name, unread count, whether current). */
export function relabel(conv) {
  conv.log.setAttribute('aria-label', `Messages in ${title(conv)}`);
  conv.refs.item.dataset[conv.kind === 'room' ? 'room' : 'peer'] = conv.name;
  view.updateEntry(conv.refs, title(conv), conv.unread, conv === session.visible);
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

export function ensureDm(peer) {
  let conv = dms.get(peer);
  if (!conv) {
    conv = createConversation('dm', peer);
    dms.set(peer, conv);
    ui.dmList.append(conv.refs.item);
    ui.dmHeading.hidden = false;
    addNotice(conv, `Direct messages with ${peer} reach them only while they are online, and are not kept in history.`, 'info');
  }
  return conv;
}

/** Puts a conversation on screen, restoring where its list was scrolled to. */
export function show(conv) {
  const previous = session.visible;
  if (previous) {
    previous.pinned = view.isPinned(previous.log);
    previous.scrollTop = previous.log.scrollTop;
  }
  session.visible = conv;
  conv.unread = 0;
  if (conv.kind === 'room') {
    session.peopleRoom = conv;
    refreshIfStale(conv);
  }
  ui.logHost.replaceChildren(conv.log);
  conv.log.scrollTop = conv.pinned ? conv.log.scrollHeight : conv.scrollTop;
  if (previous && previous !== conv) relabel(previous);
  relabel(conv);
  showHeader(conv);
  renderPeople();
  renderTyping();
  updateUnreadTitle();
}

/** The title, the composer's placeholder and the Leave (room) or Close (DM) button of the visible conversation. */
function showHeader(conv) {
  const isRoom = conv.kind === 'room';
  ui.title.textContent = title(conv);
  ui.input.placeholder = `Message ${title(conv)}`;
  ui.leaveButton.hidden = isRoom && conv.name === GENERAL;
  ui.leaveButton.textContent = isRoom ? 'Leave' : 'Close';
  ui.leaveButton.setAttribute('aria-label', isRoom ? `Leave ${title(conv)}` : `Close the conversation with ${conv.name}`);
}

export function joinRoom(name) {
  const existing = rooms.get(name);
  if (existing) return show(existing);
  if (!send('join', { room: name })) return showError('Not connected. Try again once reconnected.');
  awaitingHistory.add(name);
  show(ensureRoom(name));
  renderDirectory();
}

export function openDm(peer) {
  show(ensureDm(peer));
  ui.input.focus();
}

/** Leaves the visible room (the server stops sending its frames) or closes the visible DM. */
export function closeVisible() {
  const conv = session.visible;
  if (!conv || (conv.kind === 'room' && conv.name === GENERAL)) return;
  if (conv.kind === 'room') leaveRoom(conv);
  else {
    dms.delete(conv.name);
    ui.dmHeading.hidden = dms.size === 0;
  }
  conv.refs.item.remove();
  dropPendingOf(conv);
  const { peopleRoom } = session;
  show(peopleRoom && peopleRoom !== conv ? peopleRoom : ensureRoom(GENERAL));
  renderDirectory();
}

function leaveRoom(room) {
  send('leave', { room: room.name }); // when offline there is nothing to leave: it is just not re-joined
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

/**
 * Adds a message once (by id), in id order; counts it as unread when it lands in a conversation
 * not on screen.
 */
export function addMessage(conv, message, countUnread) {
  if (conv.nodes.has(message.id)) return;
  const item = view.messageItem(message, message.author === session.me);
  const { order } = conv;
  if (order.length === 0 || message.id > order[order.length - 1]) {
    order.push(message.id);
    view.append(conv.log, item);
  } else {
    // A catch-up page goes back in its place: before the first message with a larger id.
    const at = firstLarger(order, message.id);
    conv.log.insertBefore(item, conv.nodes.get(order[at]));
    order.splice(at, 0, message.id);
  }
  conv.nodes.set(message.id, item);
  conv.lastId = order[order.length - 1];
  if (countUnread && conv !== session.visible && message.author !== session.me) {
    conv.unread += 1;
    relabel(conv);
    updateUnreadTitle();
  }
}

/** The index of the first id in ascending `order` larger than `id` (one exists). */
function firstLarger(order, id) {
  let lo = 0;
  let hi = order.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order[mid] > id) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A stored room message (a frame or a REST page entry): it settles its pending send, if any, and is shown. */
export function addRoomMessage(room, message, countUnread) {
  settle(message.clientMsgId);
  addMessage(room, { id: message.id, author: message.nickname, text: message.message, sentAt: message.sentAt }, countUnread);
}

/** Removes every message of a conversation (the server lost them). */
export function clearMessages(conv) {
  for (const item of conv.nodes.values()) item.remove();
  conv.nodes.clear();
  conv.order = [];
  conv.lastId = 0;
}

export function addNotice(conv, text, kind) {
  view.append(conv.log, view.noticeItem(text, kind));
}

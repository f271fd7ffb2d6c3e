// Own messages the server has not acknowledged yet: shown at once as pending, sent now or once
// reconnected, and sent again with the same clientMsgId after a drop so each is stored once.
import { currentSocket, send } from './connection.js';
import * as view from './message-view.js';
import { jumpToNewest } from './scroller.js';
import { pending } from './state.js';
import { addPending, removePending } from './timeline.js';
import { actionSucceeded, beginAction } from './ui.js';

let msgCounter = 0;

function newClientMsgId() {
  msgCounter += 1;
  return `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}-${msgCounter}`;
}

/** Shows the message as sending at once; it is sent now, or as soon as the page is connected again. */
export function queueMessage(conv, author, text) {
  const clientMsgId = newClientMsgId();
  const item = view.pendingItem(clientMsgId, author, text);
  // action: when the user asked (a Retry asks again); its success clears an error shown since.
  const entry = { clientMsgId, conv, text, item, state: 'queued', sentOn: null, action: beginAction() };
  pending.set(clientMsgId, entry);
  addPending(conv, entry.item);
  jumpToNewest(conv); // your own message: always bring it into view
  transmit(entry);
}

/** Sends (again) an own message with its clientMsgId; offline it waits for the next connection. */
export function transmit(entry) {
  const { conv, clientMsgId, text } = entry;
  const sent =
    conv.kind === 'room'
      ? send('message', { message: text, clientMsgId, room: conv.name })
      : send('dm', { to: conv.peerId || conv.name, message: text, clientMsgId }); // signed in: by user id when known
  entry.sentOn = sent ? currentSocket() : null;
  setPendingState(entry, sent ? 'sending' : 'queued');
}

export function setPendingState(entry, state) {
  entry.state = state;
  view.setPendingState(entry.item, state);
}

/** Every unacknowledged message not yet sent on this connection, in the order it was written. */
export function resendPending() {
  const socket = currentSocket();
  for (const entry of pending.values()) {
    if (entry.state !== 'failed' && entry.sentOn !== socket) transmit(entry);
  }
}

/** The connection dropped: what was on its way waits, and is sent again once reconnected. */
export function requeueSending() {
  for (const entry of pending.values()) if (entry.state === 'sending') setPendingState(entry, 'queued');
}

/** The message is in the store (acknowledged, or seen with its clientMsgId): it is not pending any more. */
export function settle(clientMsgId) {
  const entry = clientMsgId === undefined ? undefined : pending.get(clientMsgId);
  if (entry) {
    actionSucceeded(entry.action);
    dropPending(entry);
  }
  return entry;
}

export function dropPending(entry) {
  pending.delete(entry.clientMsgId);
  removePending(entry.conv, entry.item);
}

/** Forgets the unsent messages of a conversation that was left or closed. */
export function dropPendingOf(conv) {
  for (const entry of pending.values()) if (entry.conv === conv) dropPending(entry);
}

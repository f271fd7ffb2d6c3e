// `error` frames: what happens to the request that failed, and plain words for the user.
import { isSignedInMode } from './auth.js';
import { send } from './connection.js';
import { closeVisible, forgetRoom } from './conversations.js';
import { dropPending, setPendingState } from './outbox.js';
import { olderPagesFailed } from './scrollback.js';
import { awaitingHistory, GENERAL, isOpen, pending, ROOM_NAME_RULE, rooms, session, title } from './state.js';
import { saveState } from './storage.js';
import { fitInput, showError, ui } from './ui.js';

export function onError(frame) {
  if (frame.event === 'typing') return; // an indicator raced a leave or a reconnect: nothing to tell the user
  // A renewed token the server did not take: the connection keeps its deadline, and at its close
  // (4001) the page renews once more or says the sign-in is over (connection.js).
  if (frame.event === 'auth') return;
  const entry = frame.clientMsgId === undefined ? undefined : pending.get(frame.clientMsgId);
  const kept = entry ? keepUnsent(entry) : undefined;
  if (frame.event === 'join') dropUnconfirmedRooms();
  if (frame.event === 'history') olderPagesFailed();
  if (frame.event === 'nick') session.reclaiming = '';
  if (frame.code === 'NOT_IN_ROOM' && entry && entry.conv.kind === 'room' && isOpen(entry.conv)) {
    rejoin(entry.conv);
  }
  showError(describeError(frame, entry, kept));
}

/**
 * Gives the unsent text back ('input'), unless the user has started writing something else: then it
 * stays in the conversation, marked as not sent, with Retry and Discard ('item').
 */
function keepUnsent(entry) {
  if (entry.conv === session.visible && ui.input.value === '') {
    dropPending(entry);
    ui.input.value = entry.text;
    fitInput();
    return 'input';
  }
  entry.sentOn = null;
  setPendingState(entry, 'failed');
  return 'item';
}

/** The server does not count us in the room (a join was lost): join it again. */
function rejoin(room) {
  awaitingHistory.add(room.name);
  send('join', { room: room.name });
}

/** A failed join leaves no membership behind: forget rooms whose first join was never confirmed. */
function dropUnconfirmedRooms() {
  for (const name of awaitingHistory) {
    const room = rooms.get(name);
    if (!room || room.loaded || name === GENERAL) continue;
    awaitingHistory.delete(name);
    if (room === session.visible) closeVisible();
    else forgetRoom(room);
  }
  saveState();
}

/** Plain words for each error code; the server's own text is shown where it is specific. */
function describeError(frame, sent, kept) {
  if (frame.code === 'UNAVAILABLE' && sent) {
    const retry =
      kept === 'item'
        ? 'It is kept in the conversation: press Retry in a moment.'
        : 'Your text is back in the message box: send it again in a moment.';
    return `The server could not store your message right now, so it was not sent. ${retry}`;
  }
  const text = explainError(frame, sent);
  return kept === 'item' ? `${text} Your message is kept in the conversation: press Retry to send it again.` : text;
}

function explainError(frame, sent) {
  switch (frame.code) {
    case 'NICK_TAKEN':
      return `${frame.message}. Please pick another nickname.`;
    case 'NOT_IN_ROOM':
      if (frame.event === 'history') return 'Earlier messages could not be loaded because you are no longer in that room.';
      return `You are not in ${sent ? title(sent.conv) : 'that room'} right now, so your message was not sent. Joining it again; please send it once more in a moment.`;
    case 'NO_SUCH_USER':
      if (isSignedInMode()) return `Your direct message to ${sent ? sent.conv.name : 'that user'} was not delivered: ${frame.message}.`;
      return `${sent ? sent.conv.name : 'That user'} is not online (or has changed nickname), so your direct message was not delivered.`;
    case 'FORBIDDEN':
      if (frame.event === 'join') return 'That room is private: only its members can join it. Ask its owner to invite you.';
      if (frame.event === 'message' || frame.event === 'history') {
        return `You are not a member of ${sent ? title(sent.conv) : 'that private room'}, so this was not allowed.`;
      }
      return `That is not allowed: ${frame.message}`;
    case 'VALIDATION':
      return explainValidation(frame);
    case 'RATE_LIMITED':
      return 'You are sending too fast: the server skipped what you sent just now. Wait a moment, then send it again.';
    case 'MUTED': {
      const until = frame.until ? `until ${new Date(frame.until).toLocaleString()}` : 'until a moderator unmutes you';
      return `A moderator has muted you in ${sent ? title(sent.conv) : 'this room'} ${until}, so your message was not sent.`;
    }
    case 'SLOW_MODE':
      return `${sent ? title(sent.conv) : 'This room'} is in slow mode: wait ${Math.ceil((frame.retryAfterMs ?? 1000) / 1000)} seconds, then send your message again.`;
    case 'UNAVAILABLE':
      if (frame.event === 'history') return 'Earlier messages could not be loaded right now.';
      if (frame.event === 'join') return 'The room could not be joined right now. Please try again in a moment.';
      return 'The server could not save that right now, so nothing was sent. Please try again in a moment.';
    default:
      return `Something went wrong (${frame.message}).`;
  }
}

function explainValidation(frame) {
  if (frame.event === 'nick' && frame.message.includes('one script')) {
    return 'That nickname mixes scripts: use the letters of one script (Latin may be mixed only with Chinese, Japanese or Korean).';
  }
  if (frame.event === 'nick') return 'That nickname cannot be used: use 1 to 32 letters, digits, "_", "-" or ".", without spaces.';
  if (frame.event === 'message' || frame.event === 'dm') {
    return 'That message cannot be sent: it must be 1 to 4000 characters and not only spaces.';
  }
  if (frame.event === 'join') return `That room cannot be joined. ${ROOM_NAME_RULE}`;
  return `The server rejected that request: ${frame.message}`;
}

/** The status line for a close the server explains (1008: the rate limit); undefined for the others. */
export function closeStatus(code) {
  if (code === 1008) return 'Disconnected for sending too fast — reconnecting…';
  return undefined;
}

/** Close 4003: a moderator ended the connection (`kicked`, `erased`: the page reconnects; `banned`: it does not). */
export const MODERATED_CLOSE = 4003;

export function describeModeratedClose(reason) {
  if (reason === 'banned') return 'A moderator has banned you from this chat, so the page will not reconnect.';
  if (reason === 'erased') return 'An administrator erased what this chat stored about you. Reconnecting…';
  return 'A moderator disconnected you. Reconnecting…';
}

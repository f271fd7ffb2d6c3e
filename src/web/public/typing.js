// Typing indicators: who is typing in each room (shown for a while after each indicator), and
// telling the visible room that this user is typing.
import { send } from './connection.js';
import { renderTyping } from './render.js';
import { session } from './state.js';
import { ui } from './ui.js';

// A little over the server's 2 s throttle, so network jitter does not get an indicator dropped.
const TYPING_SEND_MS = 2200;
const TYPING_SHOW_MS = 3000;

/** Shows `nickname` as typing in `room` until TYPING_SHOW_MS pass without another indicator. */
export function showTyping(room, nickname) {
  clearTimeout(room.typers.get(nickname));
  const timer = setTimeout(() => stopTyping(room, nickname), TYPING_SHOW_MS);
  room.typers.set(nickname, timer);
  if (room === session.visible) renderTyping();
}

export function stopTyping(room, nickname) {
  if (!room.typers.has(nickname)) return;
  clearTimeout(room.typers.get(nickname));
  room.typers.delete(nickname);
  if (room === session.visible) renderTyping();
}

export function clearTypers(room) {
  for (const timer of room.typers.values()) clearTimeout(timer);
  room.typers.clear();
}

/** Tells the visible room that this user is typing, at most once per TYPING_SEND_MS. */
export function noteTyping() {
  const room = session.visible;
  if (!room || room.kind !== 'room' || !/\S/.test(ui.input.value)) return;
  const now = Date.now();
  if (now - room.typingSentAt < TYPING_SEND_MS) return;
  if (send('typing', { room: room.name })) room.typingSentAt = now;
}

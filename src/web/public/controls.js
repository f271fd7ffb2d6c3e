// What the user does: the composer, the nickname and join forms, the room directory, and clicks in
// the conversation lists, the people list, on a pending message's Retry or Discard and on a
// message's Edit and Delete (message-actions.js).
import { send } from './connection.js';
import { closeVisible, joinRoom, openDm, show } from './conversations.js';
import { loadMore } from './members.js';
import { onMessageAction } from './message-actions.js';
import { loadMoreOnline } from './online.js';
import { dropPending, queueMessage, transmit } from './outbox.js';
import { loadDirectory } from './render.js';
import { jumpToNewest } from './scroller.js';
import { dms, isRoomName, pending, ROOM_NAME_RULE, rooms, session } from './state.js';
import { noteTyping } from './typing.js';
import { beginAction, fitInput, hideError, showError, ui } from './ui.js';

export function wireControls() {
  wireComposer();
  ui.nickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitNick();
  });
  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitJoin();
  });
  ui.joinInput.addEventListener('input', clearJoinError);
  ui.browseButton.addEventListener('click', toggleDirectory);
  wireLists();
  ui.errorDismiss.addEventListener('click', hideError);
}

function wireComposer() {
  ui.sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitMessage();
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  ui.input.addEventListener('input', () => {
    fitInput();
    noteTyping();
  });
}

/** Clicks on buttons inside lists, handled once per list (the entries come and go). */
function wireLists() {
  ui.directoryList.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-room]');
    if (button) joinRoom(button.dataset.room);
  });
  ui.roomList.addEventListener('click', (event) => onConversationClick(event, rooms, 'room'));
  ui.dmList.addEventListener('click', (event) => onConversationClick(event, dms, 'peer'));
  ui.leaveButton.addEventListener('click', closeVisible);
  ui.logHost.addEventListener('click', onPendingAction);
  ui.logHost.addEventListener('click', onMessageAction);
  ui.logHost.addEventListener('keydown', onMessageAction);
  ui.users.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-nickname]');
    if (button) openDm(button.dataset.nickname);
    if (event.target.closest('button[data-action="more"]')) loadMore(session.peopleRoom, true);
  });
  ui.onlineUsers.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-nickname]');
    if (button) openDm(button.dataset.nickname);
    if (event.target.closest('button[data-action="more"]')) void loadMoreOnline();
  });
  ui.jump.addEventListener('click', () => {
    if (session.visible) jumpToNewest(session.visible);
  });
}

function submitMessage() {
  const text = ui.input.value;
  const conv = session.visible;
  if (!/\S/.test(text) || !conv) return;
  queueMessage(conv, session.me || 'You', text);
  ui.input.value = '';
  fitInput();
}

function onPendingAction(event) {
  const button = event.target.closest('.pending button[data-action]');
  const entry = button && pending.get(button.closest('.pending').dataset.clientMsgId);
  if (!entry || entry.state !== 'failed') return;
  if (button.dataset.action === 'discard') return dropPending(entry);
  hideError();
  entry.action = beginAction();
  transmit(entry);
}

function submitNick() {
  const nickname = ui.nickInput.value.trim();
  if (!nickname) return;
  if (send('nick', { nickname })) session.nickAction = beginAction();
  else showError('Not connected. Try again once reconnected.');
}

function submitJoin() {
  const name = ui.joinInput.value.trim().replace(/^#/, '');
  if (!name) return;
  if (!isRoomName(name)) {
    ui.joinError.textContent = `"${name}" is not a room name. ${ROOM_NAME_RULE}`;
    ui.joinError.hidden = false;
    ui.joinInput.setAttribute('aria-invalid', 'true');
    return;
  }
  clearJoinError();
  ui.joinInput.value = '';
  joinRoom(name);
}

function clearJoinError() {
  ui.joinError.hidden = true;
  ui.joinInput.removeAttribute('aria-invalid');
}

function toggleDirectory() {
  const open = ui.directory.hidden;
  ui.directory.hidden = !open;
  ui.browseButton.setAttribute('aria-expanded', String(open));
  if (open) void loadDirectory();
}

function onConversationClick(event, map, key) {
  const entry = event.target.closest(`[data-${key}]`);
  const conv = entry && map.get(entry.dataset[key]);
  if (conv) show(conv);
}

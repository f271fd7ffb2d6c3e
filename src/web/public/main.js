// Browser client for the chat gateway (protocol: docs/protocol.md). Plain DOM and ES modules, no
// dependencies or build step; view.js, message-view.js and markdown.js build the nodes, and every
// string that came from the server goes in as text (textContent or text nodes), never as HTML.
// This module starts the page: it restores what a reload kept, wires the controls and connects.
import { reconnectNow, startConnection } from './connection.js';
import { ensureRoom, show } from './conversations.js';
import { wireControls } from './controls.js';
import { handleFrame } from './frames.js';
import { requeueSending } from './outbox.js';
import { startOnlineRefresh } from './online.js';
import { renderTitle, renderTyping } from './render.js';
import { olderPagesFailed } from './scrollback.js';
import { GENERAL, rooms } from './state.js';
import { restoreState } from './storage.js';
import { clearTypers } from './typing.js';

/** The socket closed: unacknowledged messages wait (and go again once reconnected), indicators go. */
function onDisconnected() {
  requeueSending();
  olderPagesFailed(0); // unanswered now; asked again on the next scroll
  for (const room of rooms.values()) clearTypers(room);
  renderTyping();
}

wireControls();
window.addEventListener('online', reconnectNow);
renderTitle();
startOnlineRefresh();

const savedRooms = restoreState();
show(ensureRoom(GENERAL));
for (const name of savedRooms) ensureRoom(name);
startConnection({ onFrame: handleFrame, onClose: onDisconnected });

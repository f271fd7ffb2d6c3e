// Browser client for the chat gateway (protocol: docs/protocol.md). Plain DOM and ES modules, no
// dependencies or build step; view.js, message-view.js and markdown.js build the nodes, and every
// string that came from the server goes in as text (textContent or text nodes), never as HTML.
// This module starts the page: it learns the sign-in mode, restores what a reload kept, wires the
// controls and connects.
import { goSignIn, isSignedInMode, loadClientConfig, signInUrl, takeToken, tokenUserId } from './auth.js';
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
import { setStatus, showSignedInLayout, showSignedOut } from './ui.js';

/** The socket closed: unacknowledged messages wait (and go again once reconnected), indicators go. */
function onDisconnected() {
  requeueSending();
  olderPagesFailed(0); // unanswered now; asked again on the next scroll
  for (const room of rooms.values()) clearTypers(room);
  renderTyping();
}

/** The server refused the token (or it expired) and no new one came: say so, with the way back in. */
function onSignedOut(verdict) {
  showSignedOut('Your sign-in has expired or is not valid. Sign in again.', verdict.message, signInUrl());
}

/** Signed-in mode and no token: off to AUTH_LOGIN_URL, or (without one, or coming back from it empty-handed) say so. */
function withoutToken() {
  if (goSignIn()) {
    setStatus('connecting', 'Signing in…');
    return;
  }
  setStatus('offline', 'Signed out');
  const href = signInUrl();
  const text = href
    ? 'Signing in did not bring you back with a sign-in token. Sign in again.'
    : 'This chat needs you to sign in, and this page has no sign-in token. Open the chat through your sign-in link.';
  showSignedOut(text, '', href);
}

async function start() {
  await loadClientConfig();
  const signedIn = isSignedInMode();
  if (signedIn) {
    showSignedInLayout();
    if (!takeToken()) return withoutToken();
  }
  startOnlineRefresh();
  const savedRooms = restoreState({ signedIn, userId: signedIn ? tokenUserId() : '' });
  show(ensureRoom(GENERAL));
  for (const name of savedRooms) ensureRoom(name);
  startConnection({ onFrame: handleFrame, onClose: onDisconnected, onSignedOut });
}

wireControls();
window.addEventListener('online', reconnectNow);
renderTitle();
void start();

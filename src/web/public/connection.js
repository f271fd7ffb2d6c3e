// The WebSocket: connecting (with a resume when something was seen before), sending, and
// reconnecting with backoff. What the frames mean is up to the handlers given to startConnection.
// Signed in (jwt mode), it connects with the token, and a close that is about the token (4001, or a
// handshake the server refused) renews the token once or ends the session instead of reconnecting.
import { checkToken, dropToken, isSignedInMode, renewToken, signIn, startRenewals } from './auth.js';
import { closeStatus, describeModeratedClose, MODERATED_CLOSE } from './errors.js';
import { rooms, session } from './state.js';
import { resumePoint } from './storage.js';
import { setStatus, showError } from './ui.js';

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15000;
const MAX_RESUME_ROOMS = 50; // the server's limit on `rooms` in a resume
const MAX_RESUME_URL_ROOMS = 2000; // characters of room names on the resume URL
const TOKEN_EXPIRED = 4001; // the server's close at the token's `exp`

let socket = null;
let attempt = 0;
let reconnectTimer = null;
let hasConnected = false;
let handlers = null; // {onFrame(frame), onClose(), onSignedOut({reason, message})}
let renewedSinceWelcome = false; // a refused token is renewed once; refused again, the session ends

export function startConnection(frameHandlers) {
  handlers = frameHandlers;
  connect();
}

function connect() {
  reconnectTimer = null;
  setStatus('connecting', attempt === 0 ? 'Connecting…' : 'Disconnected — reconnecting…');
  let ws;
  try {
    // A browser cannot set headers on a WebSocket: the token goes as the subprotocol after `bearer`.
    ws = isSignedInMode() ? new WebSocket(socketUrl(), ['bearer', signIn.token]) : new WebSocket(socketUrl());
  } catch {
    // Not even a valid subprotocol token (a JWT always is one): nothing the server would take.
    return endSession({ reason: 'malformed', message: '' });
  }
  socket = ws;
  let opened = false;
  ws.addEventListener('open', () => {
    opened = true;
  });
  ws.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    handlers.onFrame(frame);
  });
  ws.addEventListener('close', (event) => {
    if (socket !== ws) return;
    socket = null;
    handlers.onClose();
    setStatus('offline', closeStatus(event.code) ?? 'Disconnected — reconnecting…');
    if (event.code === MODERATED_CLOSE) {
      showError(describeModeratedClose(event.reason));
      if (event.reason === 'banned') return setStatus('offline', 'Banned');
    }
    if (isSignedInMode()) void afterSignedInClose(event.code, opened);
    else scheduleReconnect();
  });
}

/**
 * 4001: the token expired. A close before the socket opened: the handshake failed, and only the
 * API can say whether the token was refused (401) or the server was not there. Anything else is a
 * lost connection like any other.
 */
async function afterSignedInClose(code, opened) {
  if (code === TOKEN_EXPIRED) return renewOrEnd({ reason: 'expired', message: '' });
  if (opened) return scheduleReconnect();
  const verdict = await checkToken();
  if (verdict.refused) return renewOrEnd(verdict);
  scheduleReconnect();
}

/** A refused or expired token: a new one from AUTH_REFRESH_URL and a reconnect at once, else the end. */
async function renewOrEnd(verdict) {
  if (!renewedSinceWelcome && (await renewToken())) {
    renewedSinceWelcome = true;
    connect();
    return;
  }
  endSession(verdict);
}

/** The token is refused and no new one came: no more reconnects; the page says so (main.js). */
function endSession(verdict) {
  dropToken();
  session.resume = null;
  setStatus('offline', 'Signed out');
  handlers.onSignedOut(verdict);
}

/**
 * With the last connection's token, the server gives this one its nickname back at once (it holds
 * the name for a while after a disconnect). With something seen before, a resume: the server
 * replays every message after it. Sets `session.resume`.
 */
function socketUrl() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  const query = [];
  if (session.reconnectToken) query.push(`token=${encodeURIComponent(session.reconnectToken)}`);
  const since = resumePoint();
  session.resume = null;
  if (since > 0) {
    const names = resumeRooms();
    session.resume = { since, rooms: names, replayed: 0, gaps: new Set(), done: false, wiped: false };
    query.push(`since=${since}`, `rooms=${names.map(encodeURIComponent).join(',')}`);
  }
  return query.length > 0 ? `${url}?${query.join('&')}` : url;
}

/**
 * The rooms to resume in. Rooms that do not fit (the server's limit, or a URL that stays well below
 * header limits) are joined again after the welcome instead, with their history.
 */
function resumeRooms() {
  const names = [];
  let length = 0;
  for (const name of rooms.keys()) {
    length += encodeURIComponent(name).length + 1;
    if (names.length === MAX_RESUME_ROOMS || length > MAX_RESUME_URL_ROOMS) break;
    names.push(name);
  }
  return names;
}

/** Exponential backoff with jitter (half fixed, half random), capped; reset by a welcome. */
function scheduleReconnect() {
  if (reconnectTimer !== null) return;
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
  attempt += 1;
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  reconnectTimer = setTimeout(connect, delay);
}

/** The browser is back online: skip the rest of the backoff. */
export function reconnectNow() {
  if (socket !== null || reconnectTimer === null) return;
  clearTimeout(reconnectTimer);
  connect();
}

/** A welcome arrived: the backoff starts over. Returns whether this page had been connected before. */
export function markWelcomed() {
  const reconnected = hasConnected;
  hasConnected = true;
  attempt = 0;
  setStatus('online', 'Connected');
  if (isSignedInMode()) {
    renewedSinceWelcome = false;
    // A renewed token goes to the server in `auth`, which answers auth_ok (frames.js).
    startRenewals((token) => send('auth', { token }));
  }
  return reconnected;
}

/** Sends a frame if connected; returns whether it went out. */
export function send(event, data) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify({ event, data }));
  return true;
}

/** The socket of the current connection (null while disconnected), to tell what was sent on it. */
export function currentSocket() {
  return socket;
}

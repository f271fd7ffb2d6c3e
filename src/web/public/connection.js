// The WebSocket: connecting (with a resume when something was seen before), sending, and
// reconnecting with backoff. What the frames mean is up to the handlers given to startConnection.
import { rooms, session } from './state.js';
import { resumePoint } from './storage.js';
import { setStatus } from './ui.js';

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15000;
const MAX_RESUME_ROOMS = 50; // the server's limit on `rooms` in a resume
const MAX_RESUME_URL_ROOMS = 2000; // characters of room names on the resume URL

let socket = null;
let attempt = 0;
let reconnectTimer = null;
let hasConnected = false;
let handlers = null; // {onFrame(frame), onClose()}

export function startConnection(frameHandlers) {
  handlers = frameHandlers;
  connect();
}

function connect() {
  reconnectTimer = null;
  setStatus('connecting', attempt === 0 ? 'Connecting…' : 'Disconnected — reconnecting…');
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    handlers.onFrame(frame);
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    socket = null;
    handlers.onClose();
    setStatus('offline', 'Disconnected — reconnecting…');
    scheduleReconnect();
  });
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

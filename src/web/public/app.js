// Browser client for the chat gateway (protocol: docs/protocol.md). Plain DOM, no dependencies.
// Every string that came from the server is inserted with textContent, never as HTML.
'use strict';

(function () {
  const RECONNECT_BASE_MS = 500;
  const RECONNECT_CAP_MS = 15000;
  const GAP_FILL_LIMIT = 200;

  const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
  const ui = {
    status: byTestId('status'),
    log: byTestId('messages'),
    users: byTestId('users'),
    userCount: byTestId('user-count'),
    error: byTestId('error'),
    errorText: byTestId('error-text'),
    errorDismiss: byTestId('error-dismiss'),
    sendForm: byTestId('send-form'),
    input: byTestId('message-input'),
    sendButton: byTestId('send-button'),
    nickForm: byTestId('nick-form'),
    nickInput: byTestId('nick-input'),
  };

  let socket = null;
  let attempt = 0;
  let reconnectTimer = null;
  let hasConnected = false;
  let me = '';
  let chosenNick = ''; // re-applied after a reconnect, since the server hands out a fresh guest name
  let lastSeenId = 0; // highest message id rendered: what a reconnect must catch up from
  let awaitingWelcomeHistory = false;
  let errorTimer = null;
  const seen = new Set(); // message ids already on screen
  const online = new Set();

  // ---- connection -------------------------------------------------------------------------

  function connect() {
    reconnectTimer = null;
    setStatus('connecting', attempt === 0 ? 'Connecting…' : 'Disconnected — reconnecting…');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(frame);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      setStatus('offline', 'Disconnected — reconnecting…');
      scheduleReconnect();
    });
  }

  /** Exponential backoff with jitter (half fixed, half random), capped; reset by a welcome. */
  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
    attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (socket !== null || reconnectTimer === null) return;
    clearTimeout(reconnectTimer);
    connect();
  }

  function send(event, data) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify({ event, data }));
    return true;
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
    document.body.classList.toggle('offline', state !== 'online');
    ui.sendButton.disabled = state !== 'online';
    ui.nickForm.querySelector('button').disabled = state !== 'online';
  }

  // ---- inbound frames ---------------------------------------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case 'welcome':
        return onWelcome(frame);
      case 'history':
        return onHistory(frame);
      case 'message':
        return renderMessage(frame);
      case 'notification':
        if (frame.event === 'join') online.add(frame.nickname);
        if (frame.event === 'leave') online.delete(frame.nickname);
        renderUsers();
        return renderNotice(frame.message, frame.event);
      case 'nick_update':
        return onNickUpdate(frame);
      case 'error':
        return showError(describeError(frame));
    }
  }

  function onWelcome(frame) {
    const reconnected = hasConnected;
    hasConnected = true;
    attempt = 0;
    me = frame.nickname;
    awaitingWelcomeHistory = true;
    online.clear();
    for (const name of frame.users) online.add(name);
    renderUsers();
    setStatus('online', 'Connected');
    ui.nickInput.placeholder = me;
    renderNotice(reconnected ? `Reconnected. ${frame.message}` : frame.message, 'welcome');
    if (chosenNick && chosenNick !== me) send('nick', { nickname: chosenNick });
  }

  function onHistory(frame) {
    const first = frame.messages[0];
    // After a long disconnect the welcome's page may start past what we saw: fetch the gap.
    if (awaitingWelcomeHistory && lastSeenId > 0 && frame.hasMore && first && first.id > lastSeenId + 1) {
      send('history', { after: lastSeenId, before: first.id, limit: GAP_FILL_LIMIT });
    }
    awaitingWelcomeHistory = false;
    for (const message of frame.messages) renderMessage(message);
  }

  function onNickUpdate(frame) {
    if (frame.previous === me) {
      me = frame.nickname;
      chosenNick = frame.nickname;
      ui.nickInput.value = '';
      ui.nickInput.placeholder = me;
    }
    if (frame.previous === frame.nickname) return; // a no-op rename, confirmed to us only
    online.delete(frame.previous);
    online.add(frame.nickname);
    renderUsers();
    renderNotice(frame.message, 'nick');
  }

  /** Plain words for each error code; the server's own text is shown where it is specific. */
  function describeError(frame) {
    switch (frame.code) {
      case 'NICK_TAKEN':
        return `${frame.message}. Please pick another nickname.`;
      case 'VALIDATION':
        if (frame.event === 'nick') return 'That nickname cannot be used: use 1 to 32 letters, digits, "_", "-" or ".", without spaces.';
        if (frame.event === 'message') return 'That message cannot be sent: it must be 1 to 4000 characters and not only spaces.';
        return `The server rejected that request: ${frame.message}`;
      case 'UNAVAILABLE':
        if (frame.event === 'history') return 'Earlier messages could not be loaded right now.';
        return 'The server could not save that right now, so nothing was sent. Please try again in a moment.';
      default:
        return `Something went wrong (${frame.message}).`;
    }
  }

  // ---- rendering (text only) --------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderMessage(frame) {
    if (seen.has(frame.id)) return;
    seen.add(frame.id);
    const item = el('li', frame.nickname === me ? 'message own' : 'message');
    item.dataset.testid = 'message';
    item.dataset.id = String(frame.id);
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', frame.nickname));
    const sentAt = new Date(frame.sentAt);
    const time = el('time', 'time', sentAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    time.dateTime = frame.sentAt;
    time.title = sentAt.toLocaleString();
    meta.append(time);
    item.append(meta, el('p', 'body', frame.message));
    insertInOrder(item, frame.id);
    lastSeenId = Math.max(lastSeenId, frame.id);
  }

  /** Messages normally arrive in id order; a gap fill after reconnect goes back in its place. */
  function insertInOrder(item, id) {
    if (id > lastSeenId) return append(item);
    for (const other of ui.log.querySelectorAll('li.message')) {
      if (Number(other.dataset.id) > id) return ui.log.insertBefore(item, other);
    }
    append(item);
  }

  function renderNotice(text, kind) {
    const item = el('li', `notice notice-${kind}`, text);
    item.dataset.testid = 'notice';
    append(item);
  }

  function append(item) {
    const log = ui.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(item);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function renderUsers() {
    const names = [...online].sort((a, b) => a.localeCompare(b));
    ui.users.replaceChildren(
      ...names.map((name) => {
        const item = el('li', name === me ? 'user me' : 'user', name);
        item.dataset.testid = 'user';
        if (name === me) item.append(el('span', 'you', ' (you)'));
        return item;
      }),
    );
    ui.userCount.textContent = String(names.length);
  }

  function showError(text) {
    ui.errorText.textContent = text;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, 10000);
  }

  function hideError() {
    ui.error.hidden = true;
  }

  // ---- user input -------------------------------------------------------------------------

  function submitMessage() {
    const text = ui.input.value;
    if (!/\S/.test(text)) return;
    if (!send('message', { message: text })) {
      showError('Not connected. Your message is kept here; send it again once reconnected.');
      return;
    }
    ui.input.value = '';
    fitInput();
  }

  function fitInput() {
    ui.input.style.height = 'auto';
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
  }

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
  ui.input.addEventListener('input', fitInput);

  ui.nickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const nickname = ui.nickInput.value.trim();
    if (!nickname) return;
    if (!send('nick', { nickname })) showError('Not connected. Try again once reconnected.');
  });

  ui.errorDismiss.addEventListener('click', hideError);
  window.addEventListener('online', reconnectNow);

  connect();
})();

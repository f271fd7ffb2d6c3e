// Browser client for the chat gateway (protocol: docs/protocol.md). Plain DOM, no dependencies;
// view.js builds the nodes. Every string that came from the server is shown with textContent.
'use strict';

(function () {
  const view = window.ChatView;
  const RECONNECT_BASE_MS = 500;
  const RECONNECT_CAP_MS = 15000;
  const GAP_FILL_LIMIT = 200;
  const GENERAL = 'general';
  // A little over the server's 2 s throttle, so network jitter does not get an indicator dropped.
  const TYPING_SEND_MS = 2200;
  const TYPING_SHOW_MS = 3000;
  const ERROR_SHOW_MS = 10000;
  const ROOM_NAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]*$/u;
  const ROOM_NAME_RULE = 'Room names are 1 to 64 letters, digits, "_", "-" or ".", without spaces.';

  const ui = {
    status: view.byTestId('status'),
    error: view.byTestId('error'),
    errorText: view.byTestId('error-text'),
    errorDismiss: view.byTestId('error-dismiss'),
    roomList: view.byTestId('room-list'),
    dmList: view.byTestId('dm-list'),
    dmHeading: view.byTestId('dm-heading'),
    joinForm: view.byTestId('join-form'),
    joinInput: view.byTestId('join-input'),
    joinButton: view.byTestId('join-button'),
    joinError: view.byTestId('join-error'),
    browseButton: view.byTestId('browse-button'),
    directory: view.byTestId('directory'),
    directoryStatus: view.byTestId('directory-status'),
    directoryList: view.byTestId('directory-list'),
    title: view.byTestId('conversation-title'),
    leaveButton: view.byTestId('leave-button'),
    logHost: view.byTestId('log-host'),
    typing: view.byTestId('typing'),
    sendForm: view.byTestId('send-form'),
    input: view.byTestId('message-input'),
    sendButton: view.byTestId('send-button'),
    nickForm: view.byTestId('nick-form'),
    nickInput: view.byTestId('nick-input'),
    nickButton: view.byTestId('nick-button'),
    users: view.byTestId('users'),
    userCount: view.byTestId('user-count'),
    peopleRoom: view.byTestId('people-room'),
  };

  let socket = null;
  let attempt = 0;
  let reconnectTimer = null;
  let hasConnected = false;
  let me = '';
  let chosenNick = ''; // re-applied after a reconnect, since the server hands out a fresh guest name
  let errorTimer = null;
  let msgCounter = 0;
  let directory = []; // the last GET /api/rooms answer

  // Conversations: the rooms this user is in (re-joined after a reconnect) and direct ones by peer.
  const rooms = new Map();
  const dms = new Map();
  let visible = null; // the conversation on screen
  let peopleRoom = null; // the room whose members are listed: the visible one, or the last while a DM is open
  const awaitingHistory = new Set(); // rooms whose join (or welcome) history has not arrived yet
  const gapFills = new Map(); // room -> the id that its catch-up paging stops before
  const pending = new Map(); // clientMsgId -> {conversation, text, event}: what to explain if it fails

  // ---- conversations ----------------------------------------------------------------------

  function title(conv) {
    return conv.kind === 'room' ? `#${conv.name}` : `@${conv.name}`;
  }

  function createConversation(kind, name) {
    const conv = { kind, name, seen: new Set(), lastId: 0, unread: 0, pinned: true, scrollTop: 0 };
    conv.log = view.createLog('');
    conv.refs = view.conversationEntry(kind === 'room' ? 'room-item' : 'dm-item', name, kind === 'room' ? 'room' : 'peer');
    if (kind === 'room') Object.assign(conv, { members: new Set(), typers: new Map(), loaded: false, typingSentAt: 0 });
    relabel(conv);
    return conv;
  }

  function relabel(conv) {
    conv.log.setAttribute('aria-label', `Messages in ${title(conv)}`);
    conv.refs.item.dataset[conv.kind === 'room' ? 'room' : 'peer'] = conv.name;
    view.updateEntry(conv.refs, title(conv), conv.unread, conv === visible);
  }

  function ensureRoom(name) {
    let room = rooms.get(name);
    if (!room) {
      room = createConversation('room', name);
      rooms.set(name, room);
      ui.roomList.append(room.refs.item);
    }
    return room;
  }

  function ensureDm(peer) {
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
  function show(conv) {
    if (visible) {
      visible.pinned = view.isPinned(visible.log);
      visible.scrollTop = visible.log.scrollTop;
    }
    const previous = visible;
    visible = conv;
    conv.unread = 0;
    if (conv.kind === 'room') peopleRoom = conv;
    ui.logHost.replaceChildren(conv.log);
    conv.log.scrollTop = conv.pinned ? conv.log.scrollHeight : conv.scrollTop;
    if (previous && previous !== conv) relabel(previous);
    relabel(conv);
    ui.title.textContent = title(conv);
    ui.input.placeholder = `Message ${title(conv)}`;
    ui.leaveButton.hidden = conv.kind === 'room' && conv.name === GENERAL;
    ui.leaveButton.textContent = conv.kind === 'room' ? 'Leave' : 'Close';
    ui.leaveButton.setAttribute('aria-label', conv.kind === 'room' ? `Leave ${title(conv)}` : `Close the conversation with ${conv.name}`);
    renderPeople();
    renderTyping();
    updateUnreadTitle();
  }

  function joinRoom(name) {
    const existing = rooms.get(name);
    if (existing) return show(existing);
    if (!send('join', { room: name })) return showError('Not connected. Try again once reconnected.');
    awaitingHistory.add(name);
    show(ensureRoom(name));
    renderDirectory();
  }

  function openDm(peer) {
    show(ensureDm(peer));
    ui.input.focus();
  }

  /** Leaves the visible room (the server stops sending its frames) or closes the visible DM. */
  function closeVisible() {
    const conv = visible;
    if (!conv || (conv.kind === 'room' && conv.name === GENERAL)) return;
    if (conv.kind === 'room') {
      send('leave', { room: conv.name }); // when offline there is nothing to leave: it is just not re-joined
      rooms.delete(conv.name);
      awaitingHistory.delete(conv.name);
      gapFills.delete(conv.name);
      clearTypers(conv);
    } else {
      dms.delete(conv.name);
      ui.dmHeading.hidden = dms.size === 0;
    }
    conv.refs.item.remove();
    show(peopleRoom && peopleRoom !== conv ? peopleRoom : ensureRoom(GENERAL));
    renderDirectory();
  }

  /** Adds a message once (by id); counts it as unread when it lands in a conversation not on screen. */
  function addMessage(conv, message, countUnread) {
    if (conv.seen.has(message.id)) return;
    conv.seen.add(message.id);
    view.insertMessage(conv.log, view.messageItem(message, message.author === me), message.id, conv.lastId);
    conv.lastId = Math.max(conv.lastId, message.id);
    if (countUnread && conv !== visible && message.author !== me) {
      conv.unread += 1;
      relabel(conv);
      updateUnreadTitle();
    }
  }

  function addNotice(conv, text, kind) {
    view.append(conv.log, view.noticeItem(text, kind));
  }

  function updateUnreadTitle() {
    let unread = 0;
    for (const conv of [...rooms.values(), ...dms.values()]) unread += conv.unread;
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat';
  }

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
      pending.clear();
      for (const room of rooms.values()) clearTypers(room);
      renderTyping();
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
    for (const button of [ui.sendButton, ui.nickButton, ui.joinButton]) button.disabled = state !== 'online';
  }

  // ---- inbound frames ---------------------------------------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case 'welcome':
        return onWelcome(frame);
      case 'history':
        return onHistory(frame);
      case 'message':
        return onMessage(frame);
      case 'notification':
        return onNotification(frame);
      case 'presence':
        return onPresence(frame);
      case 'nick_update':
        return onNickUpdate(frame);
      case 'direct':
        return onDirect(frame);
      case 'typing':
        return onTyping(frame);
      case 'error':
        return onError(frame);
    }
  }

  /** A new connection starts in general only: re-join the other rooms and catch up each one's history. */
  function onWelcome(frame) {
    const reconnected = hasConnected;
    hasConnected = true;
    attempt = 0;
    me = frame.nickname;
    setStatus('online', 'Connected');
    ui.nickInput.placeholder = me;
    // The rename goes first, so the re-joins below are announced under the chosen name.
    if (chosenNick && chosenNick !== me) send('nick', { nickname: chosenNick });
    const general = ensureRoom(GENERAL);
    const joined = new Set(Array.isArray(frame.rooms) ? frame.rooms : [GENERAL]);
    for (const name of joined) ensureRoom(name);
    for (const room of rooms.values()) {
      room.members.clear();
      awaitingHistory.add(room.name);
      if (!joined.has(room.name)) send('join', { room: room.name });
    }
    for (const name of frame.users) general.members.add(name);
    send('who', { room: GENERAL }); // the welcome lists everyone online, who may not all be in general
    addNotice(general, reconnected ? `Reconnected. ${frame.message}` : frame.message, 'welcome');
    if (!visible) show(general);
    renderPeople();
  }

  function onHistory(frame) {
    const room = rooms.get(frame.room || GENERAL);
    if (!room) return;
    const messages = frame.messages;
    if (awaitingHistory.delete(room.name)) {
      // After a long disconnect the first page may start past what we saw: page through the gap.
      const first = messages[0];
      if (room.lastId > 0 && frame.hasMore && first && first.id > room.lastId + 1) {
        gapFills.set(room.name, first.id);
        send('history', { room: room.name, after: room.lastId, before: first.id, limit: GAP_FILL_LIMIT });
      }
      if (!room.loaded && messages.length === 0) addNotice(room, `No messages in #${room.name} yet.`, 'info');
    } else if (gapFills.has(room.name)) {
      const last = messages.at(-1);
      if (frame.hasMore && last) {
        send('history', { room: room.name, after: last.id, before: gapFills.get(room.name), limit: GAP_FILL_LIMIT });
      } else {
        gapFills.delete(room.name);
      }
    }
    for (const message of messages) addMessage(room, fromRoomFrame(message), room.loaded);
    room.loaded = true;
  }

  function fromRoomFrame(frame) {
    return { id: frame.id, author: frame.nickname, text: frame.message, sentAt: frame.sentAt };
  }

  function onMessage(frame) {
    const room = rooms.get(frame.room || GENERAL);
    if (!room) return;
    if (frame.clientMsgId && frame.nickname === me) pending.delete(frame.clientMsgId);
    stopTyping(room, frame.nickname);
    addMessage(room, fromRoomFrame(frame), true);
  }

  function onDirect(frame) {
    const peer = frame.from === me ? frame.to : frame.from;
    if (frame.clientMsgId && frame.from === me) pending.delete(frame.clientMsgId);
    addMessage(ensureDm(peer), { id: frame.id, author: frame.from, text: frame.message, sentAt: frame.sentAt }, true);
  }

  function onNotification(frame) {
    const room = rooms.get(frame.room || GENERAL);
    if (!room) return;
    if (frame.event === 'join') room.members.add(frame.nickname);
    if (frame.event === 'leave') {
      room.members.delete(frame.nickname);
      stopTyping(room, frame.nickname);
    }
    addNotice(room, frame.message, frame.event);
    if (room === peopleRoom) renderPeople();
  }

  function onPresence(frame) {
    const room = rooms.get(frame.room);
    if (!room) return;
    room.members = new Set(frame.users);
    if (room === peopleRoom) renderPeople();
  }

  function onNickUpdate(frame) {
    const { previous, nickname } = frame;
    if (previous === me) {
      me = nickname;
      chosenNick = nickname;
      ui.nickInput.value = '';
      ui.nickInput.placeholder = me;
    }
    if (previous === nickname) return; // a no-op rename, confirmed to us only
    for (const room of rooms.values()) {
      if (!room.members.delete(previous)) continue;
      room.members.add(nickname);
      stopTyping(room, previous);
      addNotice(room, frame.message, 'nick');
    }
    const conv = dms.get(previous);
    if (conv && !dms.has(nickname)) {
      dms.delete(previous);
      conv.name = nickname;
      dms.set(nickname, conv);
      addNotice(conv, frame.message, 'nick');
      relabel(conv);
      if (conv === visible) show(conv);
    }
    renderPeople();
  }

  function onTyping(frame) {
    const room = rooms.get(frame.room);
    if (!room || frame.nickname === me) return;
    clearTimeout(room.typers.get(frame.nickname));
    const timer = setTimeout(() => stopTyping(room, frame.nickname), TYPING_SHOW_MS);
    room.typers.set(frame.nickname, timer);
    if (room === visible) renderTyping();
  }

  function stopTyping(room, nickname) {
    if (!room.typers.has(nickname)) return;
    clearTimeout(room.typers.get(nickname));
    room.typers.delete(nickname);
    if (room === visible) renderTyping();
  }

  function clearTypers(room) {
    for (const timer of room.typers.values()) clearTimeout(timer);
    room.typers.clear();
  }

  function onError(frame) {
    if (frame.event === 'typing') return; // an indicator raced a leave or a reconnect: nothing to tell the user
    const sent = frame.clientMsgId === undefined ? undefined : pending.get(frame.clientMsgId);
    if (sent) {
      pending.delete(frame.clientMsgId);
      // Give the unsent text back, unless the user has started writing something else.
      if (sent.conversation === visible && ui.input.value === '') {
        ui.input.value = sent.text;
        fitInput();
      }
    }
    if (frame.event === 'join') dropUnconfirmedRooms();
    if (frame.code === 'NOT_IN_ROOM' && sent && rooms.has(sent.conversation.name) && sent.conversation.kind === 'room') {
      rejoin(sent.conversation);
    }
    showError(describeError(frame, sent));
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
      if (room === visible) closeVisible();
      else {
        rooms.delete(name);
        room.refs.item.remove();
      }
    }
  }

  /** Plain words for each error code; the server's own text is shown where it is specific. */
  function describeError(frame, sent) {
    const where = sent ? title(sent.conversation) : 'that room';
    switch (frame.code) {
      case 'NICK_TAKEN':
        return `${frame.message}. Please pick another nickname.`;
      case 'NOT_IN_ROOM':
        if (frame.event === 'history') return 'Earlier messages could not be loaded because you are no longer in that room.';
        return `You are not in ${where} right now, so your message was not sent. Joining it again; please send it once more in a moment.`;
      case 'NO_SUCH_USER':
        return `${sent ? sent.conversation.name : 'That user'} is not online (or has changed nickname), so your direct message was not delivered.`;
      case 'VALIDATION':
        if (frame.event === 'nick') return 'That nickname cannot be used: use 1 to 32 letters, digits, "_", "-" or ".", without spaces.';
        if (frame.event === 'message' || frame.event === 'dm') {
          return 'That message cannot be sent: it must be 1 to 4000 characters and not only spaces.';
        }
        if (frame.event === 'join') return `That room cannot be joined. ${ROOM_NAME_RULE}`;
        return `The server rejected that request: ${frame.message}`;
      case 'UNAVAILABLE':
        if (frame.event === 'history') return 'Earlier messages could not be loaded right now.';
        if (frame.event === 'join') return 'The room could not be joined right now. Please try again in a moment.';
        return 'The server could not save that right now, so nothing was sent. Please try again in a moment.';
      default:
        return `Something went wrong (${frame.message}).`;
    }
  }

  // ---- rendering --------------------------------------------------------------------------

  function renderPeople() {
    const room = peopleRoom;
    if (!room) return;
    const names = [...room.members].sort((a, b) => a.localeCompare(b));
    ui.users.replaceChildren(...names.map((name) => view.personItem(name, name === me)));
    ui.userCount.textContent = String(names.length);
    ui.peopleRoom.textContent = title(room);
  }

  function renderTyping() {
    const names = visible && visible.kind === 'room' ? [...visible.typers.keys()].sort((a, b) => a.localeCompare(b)) : [];
    ui.typing.textContent = view.typingText(names);
  }

  function renderDirectory() {
    if (ui.directory.hidden) return;
    ui.directoryList.replaceChildren(...directory.map((room) => view.directoryItem(room, rooms.has(room.name))));
  }

  async function loadDirectory() {
    ui.directoryStatus.textContent = 'Loading rooms…';
    try {
      const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      directory = Array.isArray(body.rooms) ? body.rooms : [];
      ui.directoryStatus.textContent = directory.length === 0 ? 'No rooms yet.' : '';
      renderDirectory();
    } catch {
      ui.directoryStatus.textContent = 'The room list could not be loaded. Try again in a moment.';
    }
  }

  function showError(text) {
    ui.errorText.textContent = text;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, ERROR_SHOW_MS);
  }

  function hideError() {
    ui.error.hidden = true;
  }

  // ---- user input -------------------------------------------------------------------------

  function newClientMsgId() {
    msgCounter += 1;
    return `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}-${msgCounter}`;
  }

  function submitMessage() {
    const text = ui.input.value;
    const conv = visible;
    if (!/\S/.test(text) || !conv) return;
    const clientMsgId = newClientMsgId();
    const sent =
      conv.kind === 'room'
        ? send('message', { message: text, clientMsgId, room: conv.name })
        : send('dm', { to: conv.name, message: text, clientMsgId });
    if (!sent) {
      showError('Not connected. Your message is kept here; send it again once reconnected.');
      return;
    }
    pending.set(clientMsgId, { conversation: conv, text });
    ui.input.value = '';
    fitInput();
  }

  /** Tells the visible room that this user is typing, at most once per TYPING_SEND_MS. */
  function noteTyping() {
    const room = visible;
    if (!room || room.kind !== 'room' || !/\S/.test(ui.input.value)) return;
    const now = Date.now();
    if (now - room.typingSentAt < TYPING_SEND_MS) return;
    if (send('typing', { room: room.name })) room.typingSentAt = now;
  }

  function fitInput() {
    ui.input.style.height = 'auto';
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
  }

  function submitJoin() {
    const name = ui.joinInput.value.trim().replace(/^#/, '');
    if (!name) return;
    if (!ROOM_NAME.test(name) || [...name].length > 64) {
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

  ui.nickForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const nickname = ui.nickInput.value.trim();
    if (!nickname) return;
    if (!send('nick', { nickname })) showError('Not connected. Try again once reconnected.');
  });

  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitJoin();
  });
  ui.joinInput.addEventListener('input', clearJoinError);
  ui.browseButton.addEventListener('click', toggleDirectory);
  ui.directoryList.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-room]');
    if (button) joinRoom(button.dataset.room);
  });
  ui.roomList.addEventListener('click', (event) => onConversationClick(event, rooms, 'room'));
  ui.dmList.addEventListener('click', (event) => onConversationClick(event, dms, 'peer'));
  ui.leaveButton.addEventListener('click', closeVisible);
  ui.users.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-nickname]');
    if (button) openDm(button.dataset.nickname);
  });

  ui.errorDismiss.addEventListener('click', hideError);
  window.addEventListener('online', reconnectNow);

  show(ensureRoom(GENERAL));
  connect();
})();

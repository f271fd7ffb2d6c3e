// Browser client for the chat gateway (protocol: docs/protocol.md). Plain DOM, no dependencies;
// view.js builds the nodes. Every string that came from the server is shown with textContent.
'use strict';

(function () {
  const view = window.ChatView;
  const RECONNECT_BASE_MS = 500;
  const RECONNECT_CAP_MS = 15000;
  const GAP_FILL_LIMIT = 200; // the most GET /api/messages hands out per page
  const GAP_FILL_ATTEMPTS = 3;
  const MAX_RESUME_ROOMS = 50; // the server's limit on `rooms` in a resume
  const MAX_RESUME_URL_ROOMS = 2000; // characters of room names on the resume URL
  const GENERAL = 'general';
  // Where to resume from after a reload: the last seen id and the rooms (per origin), and this
  // tab's chosen nickname (per tab, so two tabs do not fight over one name).
  const RESUME_KEY = 'chat.resume';
  const NICK_KEY = 'chat.nickname';
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
  // The highest room message id received over the socket (live, replayed or in a history frame).
  // Every room message up to it that matters has been seen, so a resume from it misses nothing.
  let lastSeenId = 0;
  // The resume of the current connection, or null for a plain connect:
  // {since, rooms, replayed, gaps: rooms that got a gap frame, done: `resumed` came, wiped}.
  let resume = null;

  // Conversations: the rooms this user is in (re-joined after a reconnect) and direct ones by peer.
  const rooms = new Map();
  const dms = new Map();
  let visible = null; // the conversation on screen
  let peopleRoom = null; // the room whose members are listed: the visible one, or the last while a DM is open
  const awaitingHistory = new Set(); // rooms whose join (or welcome) history has not arrived yet
  // room -> {after, before}: missing messages being paged in over REST (after advances per page).
  const gapFills = new Map();
  // clientMsgId -> {clientMsgId, conv, text, item, state, sentOn}: own messages not acknowledged yet,
  // in the order they were written. Kept across reconnects and resent with the same clientMsgId.
  const pending = new Map();

  // ---- conversations ----------------------------------------------------------------------

  function title(conv) {
    return conv.kind === 'room' ? `#${conv.name}` : `@${conv.name}`;
  }

  function createConversation(kind, name) {
    // order: the ids shown, ascending; nodes: id -> its list item.
    const conv = { kind, name, order: [], nodes: new Map(), lastId: 0, unread: 0, pinned: true, scrollTop: 0 };
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
      saveState();
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
      saveState();
    } else {
      dms.delete(conv.name);
      ui.dmHeading.hidden = dms.size === 0;
    }
    conv.refs.item.remove();
    for (const entry of pending.values()) if (entry.conv === conv) dropPending(entry);
    show(peopleRoom && peopleRoom !== conv ? peopleRoom : ensureRoom(GENERAL));
    renderDirectory();
  }

  /**
   * Adds a message once (by id), in id order; counts it as unread when it lands in a conversation
   * not on screen.
   */
  function addMessage(conv, message, countUnread) {
    if (conv.nodes.has(message.id)) return;
    const item = view.messageItem(message, message.author === me);
    const { order } = conv;
    if (order.length === 0 || message.id > order[order.length - 1]) {
      order.push(message.id);
      view.append(conv.log, item);
    } else {
      // A catch-up page goes back in its place: before the first message with a larger id.
      let lo = 0;
      let hi = order.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (order[mid] > message.id) hi = mid;
        else lo = mid + 1;
      }
      conv.log.insertBefore(item, conv.nodes.get(order[lo]));
      order.splice(lo, 0, message.id);
    }
    conv.nodes.set(message.id, item);
    conv.lastId = order[order.length - 1];
    if (countUnread && conv !== visible && message.author !== me) {
      conv.unread += 1;
      relabel(conv);
      updateUnreadTitle();
    }
  }

  /** A room message that came over the socket: it moves the resume point, even when already shown. */
  function receiveRoomMessage(room, frame, countUnread) {
    if (Number.isSafeInteger(frame.id) && frame.id > lastSeenId) {
      lastSeenId = frame.id;
      saveState();
    }
    settle(frame.clientMsgId);
    addMessage(room, fromRoomFrame(frame), countUnread);
  }

  /** Removes every message of a conversation (the server lost them). */
  function clearMessages(conv) {
    for (const item of conv.nodes.values()) item.remove();
    conv.nodes.clear();
    conv.order = [];
    conv.lastId = 0;
  }

  function addNotice(conv, text, kind) {
    view.append(conv.log, view.noticeItem(text, kind));
  }

  function isOpen(conv) {
    return (conv.kind === 'room' ? rooms : dms).get(conv.name) === conv;
  }

  // ---- what survives a reload -------------------------------------------------------------

  function saveState() {
    try {
      localStorage.setItem(RESUME_KEY, JSON.stringify({ lastSeenId: resumePoint(), rooms: [...rooms.keys()] }));
    } catch {
      // storage disabled or full: a reload then starts afresh
    }
  }

  /** Where a resume starts: the last seen id, or earlier while older messages are still being paged in. */
  function resumePoint() {
    let point = lastSeenId;
    for (const fill of gapFills.values()) point = Math.min(point, fill.after);
    return point;
  }

  function isRoomName(name) {
    return typeof name === 'string' && ROOM_NAME.test(name) && [...name].length <= 64;
  }

  /** Sets the last seen id and nickname kept before a reload; returns the rooms the page was in. */
  function restoreState() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(RESUME_KEY) || 'null');
    } catch {
      // unreadable: start afresh
    }
    try {
      chosenNick = sessionStorage.getItem(NICK_KEY) || '';
    } catch {
      chosenNick = '';
    }
    if (!saved || typeof saved !== 'object') return [];
    if (Number.isSafeInteger(saved.lastSeenId) && saved.lastSeenId > 0) lastSeenId = saved.lastSeenId;
    return Array.isArray(saved.rooms) ? saved.rooms.filter(isRoomName) : [];
  }

  function saveNick(nickname) {
    try {
      sessionStorage.setItem(NICK_KEY, nickname);
    } catch {
      // not kept across a reload then
    }
  }

  // ---- REST catch-up ----------------------------------------------------------------------

  async function fetchPage(params) {
    const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
    const res = await fetch(`/api/messages?${query}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    return { messages: Array.isArray(body.messages) ? body.messages : [], hasMore: body.hasMore === true };
  }

  function pause(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Pages in a room's messages with ids in (after, before) over REST, oldest first; `before`
   * undefined means up to the newest. Until it is done, a resume starts at most from its cursor.
   */
  function fillGap(room, after, before, countUnread) {
    const fill = { after, before };
    gapFills.set(room.name, fill);
    saveState();
    void (async () => {
      let failures = 0;
      const current = () => gapFills.get(room.name) === fill && rooms.get(room.name) === room;
      while (current()) {
        let page;
        try {
          const params = { room: room.name, after: fill.after, limit: GAP_FILL_LIMIT };
          if (fill.before !== undefined) params.before = fill.before;
          page = await fetchPage(params);
        } catch {
          failures += 1;
          if (failures >= GAP_FILL_ATTEMPTS) {
            // Left in gapFills: the next resume starts from its cursor and asks again.
            if (current()) showError(`Some earlier messages of #${room.name} could not be loaded right now.`);
            return;
          }
          await pause(1000 * failures);
          continue;
        }
        if (!current()) return;
        for (const message of page.messages) {
          settle(message.clientMsgId);
          addMessage(room, fromRoomFrame(message), countUnread);
        }
        const last = page.messages.at(-1);
        if (!page.hasMore || !last) {
          gapFills.delete(room.name);
          saveState();
          return;
        }
        fill.after = last.id;
        saveState();
      }
    })();
  }

  /** The recent history of a room that shows nothing yet (after a reload, or a server reset): up to `before`. */
  async function loadRecent(room, before) {
    const load = {};
    room.recentLoad = load; // a later load (after a reset) decides whether the room is empty
    let page;
    try {
      page = await fetchPage(before === undefined ? { room: room.name } : { room: room.name, before });
    } catch {
      if (rooms.get(room.name) === room) showError(`The messages of #${room.name} could not be loaded right now.`);
      return;
    }
    if (rooms.get(room.name) !== room) return;
    for (const message of page.messages) {
      settle(message.clientMsgId);
      addMessage(room, fromRoomFrame(message), false);
    }
    if (room.recentLoad === load && room.order.length === 0) addNotice(room, `No messages in #${room.name} yet.`, 'info');
  }

  /**
   * A resume that replayed nothing may have met a server that lost its history (since is past
   * its newest message): then what is shown no longer exists, and new messages reuse old ids.
   */
  async function checkWiped(done) {
    let newest = 0;
    try {
      const res = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const body = await res.json();
      for (const room of Array.isArray(body.rooms) ? body.rooms : []) {
        if (Number.isSafeInteger(room.lastMessageId)) newest = Math.max(newest, room.lastMessageId);
      }
    } catch {
      return;
    }
    if (resume === done && newest < done.since) onWiped();
  }

  /** The server's history was reset: show what it has now, and resume from there next time. */
  function onWiped() {
    if (!resume || resume.wiped) return;
    resume.wiped = true;
    lastSeenId = 0;
    gapFills.clear();
    for (const room of rooms.values()) {
      clearMessages(room);
      addNotice(room, 'The server no longer has the earlier messages. Showing the messages it has now.', 'info');
      void loadRecent(room);
    }
    saveState();
  }

  // ---- sending ----------------------------------------------------------------------------

  /** Sends (again) an own message with its clientMsgId; offline it waits for the next connection. */
  function transmit(entry) {
    const { conv, clientMsgId, text } = entry;
    const sent =
      conv.kind === 'room'
        ? send('message', { message: text, clientMsgId, room: conv.name })
        : send('dm', { to: conv.name, message: text, clientMsgId });
    entry.sentOn = sent ? socket : null;
    setPendingState(entry, sent ? 'sending' : 'queued');
  }

  function setPendingState(entry, state) {
    entry.state = state;
    view.setPendingState(entry.item, state);
  }

  /** Every unacknowledged message not yet sent on this connection, in the order it was written. */
  function resendPending() {
    for (const entry of pending.values()) {
      if (entry.state !== 'failed' && entry.sentOn !== socket) transmit(entry);
    }
  }

  /** The message is in the store (acknowledged, or seen with its clientMsgId): it is not pending any more. */
  function settle(clientMsgId) {
    const entry = clientMsgId === undefined ? undefined : pending.get(clientMsgId);
    if (entry) dropPending(entry);
    return entry;
  }

  function dropPending(entry) {
    pending.delete(entry.clientMsgId);
    entry.item.remove();
  }

  /** Stored under `id`: shown at once (its broadcast, if any, is then a duplicate and skipped). */
  function onAck(frame) {
    const entry = settle(frame.clientMsgId);
    if (!entry || !isOpen(entry.conv) || !Number.isSafeInteger(frame.id)) return;
    addMessage(entry.conv, { id: frame.id, author: me, text: entry.text, sentAt: new Date().toISOString() }, false);
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
    let url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
    // With something seen before, resume: the server replays every message after it.
    const since = resumePoint();
    resume = null;
    if (since > 0) {
      // Rooms that do not fit (the server's limit, or a URL that stays well below header limits)
      // are joined again after the welcome instead, with their history.
      const names = [];
      let length = 0;
      for (const name of rooms.keys()) {
        length += encodeURIComponent(name).length + 1;
        if (names.length === MAX_RESUME_ROOMS || length > MAX_RESUME_URL_ROOMS) break;
        names.push(name);
      }
      resume = { since, rooms: names, replayed: 0, gaps: new Set(), done: false, wiped: false };
      url += `?since=${since}&rooms=${names.map(encodeURIComponent).join(',')}`;
    }
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
      // Unacknowledged messages wait, and are sent again (same clientMsgId) once reconnected.
      for (const entry of pending.values()) if (entry.state === 'sending') setPendingState(entry, 'queued');
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
    // Sending stays possible offline: the message waits and goes out once reconnected.
    for (const button of [ui.nickButton, ui.joinButton]) button.disabled = state !== 'online';
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
      case 'ack':
        return onAck(frame);
      case 'gap':
        return onGap(frame);
      case 'resumed':
        return onResumed();
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

  /**
   * A resumed connection is in the rooms it asked for and gets everything after `since` replayed;
   * a plain one starts in general only, so the other rooms are joined again (with their history).
   */
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
    awaitingHistory.clear();
    for (const room of rooms.values()) {
      room.members.clear();
      if (resume && joined.has(room.name) && resume.rooms.includes(room.name)) continue; // replayed
      awaitingHistory.add(room.name);
      if (!joined.has(room.name)) send('join', { room: room.name });
    }
    for (const name of frame.users) general.members.add(name);
    // Presence: the welcome lists everyone online, who may not all be in general; a resume sends none.
    for (const name of joined) send('who', { room: name });
    addNotice(general, reconnected ? `Reconnected. ${frame.message}` : frame.message, 'welcome');
    if (!visible) show(general);
    renderPeople();
    if (!resume) resendPending();
  }

  /** A resume left out more than the server replays: page in the rest over REST. */
  function onGap(frame) {
    const room = rooms.get(frame.room);
    if (!room || !resume || resume.done || !Number.isSafeInteger(frame.afterId) || !Number.isSafeInteger(frame.beforeId)) return;
    resume.gaps.add(room.name);
    fillGap(room, frame.afterId, frame.beforeId, room.loaded);
  }

  /** The replay is complete: the page is caught up. Rooms new to the page get their earlier history. */
  function onResumed() {
    const done = resume;
    if (!done || done.done) return;
    done.done = true;
    for (const name of done.rooms) {
      const room = rooms.get(name);
      if (!room) continue;
      // Replayed from at most the old cursor on: an older paging of this room is covered.
      if (!done.gaps.has(name)) gapFills.delete(name);
      if (!room.loaded) {
        room.loaded = true;
        void loadRecent(room, done.since + 1);
      }
    }
    saveState();
    if (done.replayed === 0) void checkWiped(done);
    resendPending();
  }

  /** The store could not replay (UNAVAILABLE: in the rooms, nothing replayed) or the resume was refused. */
  function onResumeFailed(frame) {
    const failed = resume;
    if (!failed || failed.done) return;
    resume = null;
    if (frame.code === 'UNAVAILABLE') {
      for (const name of failed.rooms) {
        const room = rooms.get(name);
        if (!room) continue;
        fillGap(room, failed.since, undefined, room.loaded);
        if (!room.loaded) {
          room.loaded = true;
          void loadRecent(room, failed.since + 1);
        }
      }
    } else {
      // A plain connect follows: general's history comes, and the other rooms were joined again.
      awaitingHistory.add(GENERAL);
    }
    resendPending();
  }

  function onHistory(frame) {
    const room = rooms.get(frame.room || GENERAL);
    if (!room) return;
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    if (awaitingHistory.delete(room.name)) {
      // After a long disconnect the first page may start past what we saw: page through the gap.
      const first = messages[0];
      if (room.lastId > 0 && frame.hasMore && first && first.id > room.lastId + 1) {
        fillGap(room, room.lastId, first.id, room.loaded);
      }
      if (!room.loaded && messages.length === 0) addNotice(room, `No messages in #${room.name} yet.`, 'info');
    }
    for (const message of messages) receiveRoomMessage(room, message, room.loaded);
    room.loaded = true;
  }

  function fromRoomFrame(frame) {
    return { id: frame.id, author: frame.nickname, text: frame.message, sentAt: frame.sentAt };
  }

  function onMessage(frame) {
    if (resume) {
      if (!resume.done) resume.replayed += 1;
      // After a resume every new message is newer than `since`, unless the server lost its history.
      else if (frame.id <= resume.since) onWiped();
    }
    const room = rooms.get(frame.room || GENERAL);
    if (!room) return;
    stopTyping(room, frame.nickname);
    receiveRoomMessage(room, frame, room.loaded);
  }

  function onDirect(frame) {
    const peer = frame.from === me ? frame.to : frame.from;
    if (frame.from === me) settle(frame.clientMsgId);
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
      saveNick(nickname);
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
    if (frame.event === 'resume') return onResumeFailed(frame);
    const entry = frame.clientMsgId === undefined ? undefined : pending.get(frame.clientMsgId);
    let kept;
    if (entry) {
      // Give the unsent text back, unless the user has started writing something else: then it
      // stays in the conversation, marked as not sent, with Retry and Discard.
      if (entry.conv === visible && ui.input.value === '') {
        dropPending(entry);
        ui.input.value = entry.text;
        fitInput();
        kept = 'input';
      } else {
        entry.sentOn = null;
        setPendingState(entry, 'failed');
        kept = 'item';
      }
    }
    if (frame.event === 'join') dropUnconfirmedRooms();
    if (frame.code === 'NOT_IN_ROOM' && entry && entry.conv.kind === 'room' && isOpen(entry.conv)) {
      rejoin(entry.conv);
    }
    showError(describeError(frame, entry, kept));
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
        for (const entry of pending.values()) if (entry.conv === room) dropPending(entry);
      }
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
    const where = sent ? title(sent.conv) : 'that room';
    switch (frame.code) {
      case 'NICK_TAKEN':
        return `${frame.message}. Please pick another nickname.`;
      case 'NOT_IN_ROOM':
        if (frame.event === 'history') return 'Earlier messages could not be loaded because you are no longer in that room.';
        return `You are not in ${where} right now, so your message was not sent. Joining it again; please send it once more in a moment.`;
      case 'NO_SUCH_USER':
        return `${sent ? sent.conv.name : 'That user'} is not online (or has changed nickname), so your direct message was not delivered.`;
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

  /** Shows the message as sending at once; it is sent now, or as soon as the page is connected again. */
  function submitMessage() {
    const text = ui.input.value;
    const conv = visible;
    if (!/\S/.test(text) || !conv) return;
    const clientMsgId = newClientMsgId();
    const entry = { clientMsgId, conv, text, item: view.pendingItem(clientMsgId, me || 'You', text), state: 'queued', sentOn: null };
    pending.set(clientMsgId, entry);
    view.append(conv.log, entry.item);
    conv.log.scrollTop = conv.log.scrollHeight; // your own message: always bring it into view
    transmit(entry);
    ui.input.value = '';
    fitInput();
  }

  function onPendingAction(event) {
    const button = event.target.closest('.pending button[data-action]');
    const entry = button && pending.get(button.closest('.pending').dataset.clientMsgId);
    if (!entry || entry.state !== 'failed') return;
    if (button.dataset.action === 'discard') return dropPending(entry);
    hideError();
    transmit(entry);
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
  ui.logHost.addEventListener('click', onPendingAction);
  ui.users.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-nickname]');
    if (button) openDm(button.dataset.nickname);
  });

  ui.errorDismiss.addEventListener('click', hideError);
  window.addEventListener('online', reconnectNow);

  const savedRooms = restoreState();
  show(ensureRoom(GENERAL));
  for (const name of savedRooms) ensureRoom(name);
  connect();
})();

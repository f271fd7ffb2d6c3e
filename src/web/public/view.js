// DOM building blocks for the chat client (the other modules hold the state and the protocol).
// Every string that came from the server is inserted with textContent, never as HTML.

export function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One conversation's message list; only the visible conversation's list is in the document. */
export function createLog(label) {
  const log = el('ol', 'log');
  log.dataset.testid = 'messages';
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  log.setAttribute('aria-label', label);
  return log;
}

/** A room or DM entry for the conversation list; `refs` keeps the nodes that change. */
export function conversationEntry(testId, key, data) {
  const item = el('li', 'conversation-entry');
  item.dataset.testid = testId;
  item.dataset[data] = key;
  const button = el('button', 'conversation-button');
  button.type = 'button';
  const lock = lockIcon();
  lock.hidden = true;
  const label = el('span', 'conversation-name');
  const badge = el('span', 'badge');
  badge.dataset.testid = 'unread';
  badge.setAttribute('aria-hidden', 'true');
  badge.hidden = true;
  button.append(lock, label, badge);
  item.append(button);
  return { item, button, lock, label, badge };
}

/** The mark of a private room (members only). */
function lockIcon() {
  const lock = el('span', 'lock', '🔒');
  lock.dataset.testid = 'lock';
  lock.title = 'Private room: members only';
  lock.setAttribute('aria-hidden', 'true');
  return lock;
}

export function updateEntry(refs, title, unread, current, locked = false) {
  refs.label.textContent = title;
  refs.lock.hidden = !locked;
  refs.item.dataset.private = String(locked);
  refs.badge.textContent = String(unread);
  refs.badge.hidden = unread === 0;
  const name = locked ? `${title} (private)` : title;
  refs.button.setAttribute('aria-label', unread === 0 ? name : `${name}, ${unread} unread`);
  if (current) refs.button.setAttribute('aria-current', 'true');
  else refs.button.removeAttribute('aria-current');
}

/** A people list (`user`, or `online-user`): others are buttons that open a direct conversation. */
export function personItem(name, isMe, kind = 'user') {
  const item = el('li', isMe ? `${kind} me` : kind);
  item.dataset.testid = kind;
  if (isMe) {
    item.append(document.createTextNode(name), el('span', 'you', ' (you)'));
    return item;
  }
  const button = el('button', 'user-button', name);
  button.type = 'button';
  button.dataset.nickname = name;
  button.title = `Send ${name} a direct message`;
  item.append(button);
  return item;
}

/** The end of a partial people list: how many are not listed, and a button to list more. */
export function moreItem(count, testId = 'users-more') {
  const item = el('li', 'users-more');
  item.dataset.testid = testId;
  const button = el('button', 'secondary', 'Show more');
  button.type = 'button';
  button.dataset.action = 'more';
  button.setAttribute('aria-label', `Show more of the ${count} people not listed`);
  item.append(el('span', 'users-more-count', `and ${count} more`), button);
  return item;
}

export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

/** One room of GET /api/rooms: name, how many are in it, and a button to join or open it. */
export function directoryItem(room, joined) {
  const item = el('li', 'directory-room');
  item.dataset.testid = 'directory-room';
  item.dataset.room = room.name;
  const text = el('span', 'directory-name', `#${room.name}`);
  if (room.visibility === 'private') {
    item.dataset.private = 'true';
    text.prepend(lockIcon());
  }
  const count = el('span', 'directory-count', `${room.members} online`);
  const button = el('button', 'secondary', joined ? 'Open' : 'Join');
  button.type = 'button';
  button.dataset.room = room.name;
  button.setAttribute('aria-label', `${joined ? 'Open' : 'Join'} #${room.name}`);
  item.append(text, count, button);
  return item;
}

// The list items of a conversation's log: messages (avatar, header, Markdown body), own messages
// still being sent, date lines and the line at the top of the log. Text from the server goes in
// as text nodes only (markdown.js builds the body the same way).
import { renderBody } from './markdown.js';
import { el } from './view.js';

const PENDING_STATES = {
  sending: 'Sending…',
  queued: 'Sending once reconnected…',
  failed: 'Not sent',
};

/** A circle with the sender's initial, in a colour of their own (the hue comes from the name). */
function avatar(name) {
  const node = el('span', 'avatar', [...name][0]?.toUpperCase() ?? '?');
  node.setAttribute('aria-hidden', 'true');
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  node.style.setProperty('--hue', String(hash)); // CSSOM, which the page's CSP allows (style attributes it does not)
  return node;
}

// One formatter each: toLocale*String builds a new one per call, which made up most of drawing a page.
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const FULL = new Intl.DateTimeFormat([], { dateStyle: 'full', timeStyle: 'short' });
const DAY = new Intl.DateTimeFormat([], { weekday: 'long', month: 'long', day: 'numeric' });
const DAY_YEAR = new Intl.DateTimeFormat([], { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });

function timeOf(time) {
  return TIME.format(time);
}

/**
 * A message: {id, author, authorId, text, time, editedAt, deleted}. `me` is the reader's nickname
 * (a mention of it is highlighted, in other people's messages), `myId` the reader's user id when
 * signed in (names are not unique then: whose a message is goes by id). A message continuing its
 * sender's previous one gets the class `continued` (scroller.js): its header is then hidden, and
 * its time shows on hover. Own messages get Edit and Delete, everyone's Delete for an admin
 * (`moderator`); an edited one an "(edited)" mark; a deleted one is a placeholder.
 */
export function messageItem(message, me, myId = '', moderator = false) {
  if (message.deleted) return deletedItem(message);
  const own = message.authorId && myId ? message.authorId === myId : message.author === me;
  const { body, mentionsMe } = renderBody(message.text, own ? '' : me);
  const item = el('li', `entry message${own ? ' own' : ''}${mentionsMe ? ' mentions-me' : ''}`);
  item.dataset.testid = 'message';
  item.dataset.id = String(message.id);
  const gutter = el('div', 'gutter');
  const short = el('time', 'time-short', timeOf(message.time));
  short.setAttribute('aria-hidden', 'true');
  gutter.append(avatar(message.author), short);
  const meta = el('div', 'meta');
  const time = el('time', 'time', timeOf(message.time));
  time.dateTime = new Date(message.time).toISOString();
  time.title = FULL.format(message.time);
  const author = el('span', 'author', message.author);
  if (message.authorId) author.title = `User id: ${message.authorId}`;
  meta.append(author, time);
  if (message.editedAt) meta.append(editedMark(message.editedAt));
  const content = el('div', 'content');
  content.append(meta, body);
  if (own || moderator) content.append(messageActions(own));
  item.append(gutter, content);
  return item;
}

function editedMark(editedAt) {
  const mark = el('span', 'edited-mark', '(edited)');
  mark.dataset.testid = 'edited-mark';
  const time = Date.parse(editedAt);
  if (Number.isFinite(time)) mark.title = `Edited ${FULL.format(time)}`;
  return mark;
}

/** Small buttons, shown when the message is hovered or focused: message-actions.js handles them. */
function messageActions(own) {
  const actions = el('div', 'message-actions');
  for (const [action, label] of own ? [['edit', 'Edit'], ['delete', 'Delete']] : [['delete', 'Delete']]) {
    const button = el('button', 'message-action', label);
    button.type = 'button';
    button.dataset.editAction = action;
    button.dataset.testid = `message-${action}`;
    actions.append(button);
  }
  return actions;
}

/** Where a deleted message was: its place in the log, nothing of it (the server keeps no text either). */
function deletedItem(message) {
  const item = el('li', 'entry message deleted');
  item.dataset.testid = 'message';
  item.dataset.id = String(message.id);
  item.dataset.deleted = 'true';
  const content = el('div', 'content');
  content.append(el('span', 'deleted-text', 'Message deleted'));
  item.append(el('div', 'gutter'), content);
  return item;
}

/**
 * An own message the server has not acknowledged yet. It is not a `message` (it has no id):
 * the acknowledged message replaces it. Failed ones offer Retry and Discard.
 */
export function pendingItem(clientMsgId, author, text) {
  const item = el('li', 'message own pending');
  item.dataset.testid = 'pending-message';
  item.dataset.clientMsgId = clientMsgId;
  const gutter = el('div', 'gutter');
  gutter.append(avatar(author));
  const meta = el('div', 'meta');
  const state = el('span', 'pending-state');
  state.dataset.testid = 'pending-state';
  meta.append(el('span', 'author', author), state);
  const actions = el('div', 'pending-actions');
  actions.hidden = true;
  for (const [action, label] of [
    ['retry', 'Retry'],
    ['discard', 'Discard'],
  ]) {
    const button = el('button', 'secondary', label);
    button.type = 'button';
    button.dataset.action = action;
    button.dataset.testid = `pending-${action}`;
    actions.append(button);
  }
  const content = el('div', 'content');
  content.append(meta, renderBody(text, '').body, actions);
  item.append(gutter, content);
  return item;
}

export function setPendingState(item, state) {
  item.dataset.state = state;
  item.querySelector('.pending-state').textContent = PENDING_STATES[state];
  item.querySelector('.pending-actions').hidden = state !== 'failed';
  item.setAttribute('aria-busy', String(state !== 'failed'));
}

/** "Today", "Yesterday", or the date ("Monday, 3 November", with the year when it is not this one). */
export function dayLabel(time, now = Date.now()) {
  const date = new Date(time);
  const today = new Date(now);
  const days = Math.round((startOfDay(today) - startOfDay(date)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return (date.getFullYear() === today.getFullYear() ? DAY : DAY_YEAR).format(date);
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function dayDivider(label) {
  const item = el('li', 'day-divider');
  item.dataset.testid = 'day-divider';
  item.setAttribute('role', 'separator');
  item.append(el('span', 'day-label', label));
  return item;
}

/** The line at the top of a log that goes back to the conversation's first message. */
export function logEdge() {
  const item = el('li', 'log-edge');
  item.dataset.testid = 'log-start';
  return item;
}

export function noticeItem(text, kind) {
  const item = el('li', `entry notice notice-${kind}`, text);
  item.dataset.testid = 'notice';
  return item;
}

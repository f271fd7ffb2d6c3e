// Draws the window of a conversation's timeline (timeline.js) into its log, and slides the window
// as the reader scrolls: older entries come from memory, or from the server (scrollback.js).
//
// Why a capped window rather than every entry, or virtualization by measured heights: messages
// vary in height (Markdown, code blocks, wrapping, the phone's width), so true virtualization
// needs each height measured or guessed, and a wrong guess makes the scrollbar jump. A window of
// at most WINDOW_MAX entries, slid by SLIDE when the reader comes within a screen of either end,
// bounds the DOM however long the room is, lets the browser lay out exactly what is there, and
// needs one correction per change: the entry at the top of the view stays where it was.
import { dayDivider, dayLabel, logEdge, messageItem } from './message-view.js';
import { requestOlder } from './scrollback.js';
import { dms, rooms, session, title } from './state.js';
import { ui } from './ui.js';

export const WINDOW_MAX = 400;
const SLIDE = 100;
const GROUP_MS = 5 * 60 * 1000; // one header over a sender's messages less than this apart
const PINNED_SLACK_PX = 40;
const DAY_LOOKBACK = 50; // entries searched above the window for the previous message's day

const dirty = new Set();
let frame = 0;
let timer = 0;
let edgeQueued = false;

/** The conversation changed: it is drawn at the next frame (a conversation not on screen, once shown). */
export function markDirty(conv) {
  dirty.add(conv);
  if (frame) return;
  frame = requestAnimationFrame(flush);
  timer = setTimeout(flush, 100); // a hidden tab runs no animation frames
}

function flush() {
  cancelAnimationFrame(frame);
  clearTimeout(timer);
  frame = 0;
  const conv = session.visible;
  if (conv && dirty.delete(conv)) draw(conv);
}

/** Whether the log shows the newest entry at its bottom. */
export function atNewest(conv) {
  const { log } = conv;
  return conv.win.end === conv.entries.length && log.scrollHeight - log.scrollTop - log.clientHeight < PINNED_SLACK_PX;
}

/** Remembers where a conversation was scrolled to before another one is shown. */
export function saveScroll(conv) {
  conv.pinned = atNewest(conv);
  conv.scrollTop = conv.log.scrollTop;
}

/** Draws a conversation just put on screen, where it was scrolled to (or at its newest). */
export function drawShown(conv) {
  dirty.delete(conv);
  draw(conv, true);
  showLoading();
}

/** Back to the newest messages (the reader asked, or sent a message). */
export function jumpToNewest(conv) {
  const length = conv.entries.length;
  if (conv.win.end < length) conv.win = { start: Math.max(0, length - SLIDE), end: length };
  conv.stick = true;
  if (conv === session.visible) {
    dirty.delete(conv);
    draw(conv);
  } else {
    markDirty(conv);
  }
}

function draw(conv, restore = false) {
  const { log } = conv;
  const attached = log.isConnected && log.clientHeight > 0;
  const stick = conv.stick || (restore || !attached ? conv.pinned : atNewest(conv));
  conv.stick = false;
  const anchor = attached && !stick && !restore ? findAnchor(log) : null;
  fitWindow(conv, stick, attached);
  reconcile(log, layout(conv));
  if (!attached) return;
  if (stick) log.scrollTop = log.scrollHeight;
  else if (restore) log.scrollTop = conv.scrollTop;
  else if (anchor) {
    // The same entry, or the node that replaced it (a message drawn again after a rename).
    const node = anchor.node.isConnected ? anchor.node : log.querySelector(`[data-id="${anchor.node.dataset.id}"]`);
    if (node) log.scrollTop = node.offsetTop - anchor.offset;
  }
  if (conv === session.visible) queueEdgeCheck();
}

/** Every message drawn again (your nickname changed: the mentions to highlight did too). */
export function redrawAll() {
  for (const conv of [...rooms.values(), ...dms.values()]) {
    for (const entry of conv.drawn ?? []) if (entry.type === 'message') entry.node = null;
    markDirty(conv);
  }
}

/** The first entry at least partly in view, and how far below the top of the view it starts. */
function findAnchor(log) {
  const top = log.scrollTop;
  for (const node of log.children) {
    if (node.classList.contains('entry') && node.offsetTop + node.offsetHeight > top) {
      return { node, offset: node.offsetTop - top };
    }
  }
  return null;
}

/** Trims an oversized window on the side away from the reader (or the side a slide asked for). */
function fitWindow(conv, stick, attached) {
  const { win, entries, log } = conv;
  win.end = Math.min(win.end, entries.length);
  win.start = Math.min(win.start, win.end);
  const excess = win.end - win.start - WINDOW_MAX;
  const side = conv.trim;
  conv.trim = null;
  if (excess <= 0) return;
  const readingLower = attached ? log.scrollTop + log.clientHeight / 2 > log.scrollHeight / 2 : conv.pinned;
  if (side ? side === 'top' : stick || readingLower) win.start += excess;
  else win.end -= excess;
}

/**
 * The nodes the window shows, in order: where the conversation starts (or that older messages are
 * loading), each message (a date line before the first of each day; a message less than GROUP_MS
 * after its sender's previous one continues under that one's header), notices, then own messages
 * still being sent.
 */
function layout(conv) {
  const { entries, win } = conv;
  const nodes = [];
  const drawn = new Set();
  if (win.start === 0 && edgeKind(conv)) nodes.push(edgeNode(conv));
  let previous = entries[win.start - 1];
  let lastDay = dayAbove(entries, win.start);
  const now = Date.now();
  for (let i = win.start; i < win.end; i += 1) {
    const entry = entries[i];
    drawn.add(entry);
    if (entry.type === 'message') {
      // A tombstone has no time of its own: it takes no date line.
      if (!entry.deleted && entry.day !== lastDay) nodes.push(divider(entry, now));
      if (!entry.deleted) lastDay = entry.day;
      entry.node ??= messageItem(entry, session.me, session.userId, session.admin);
      entry.node.classList.toggle('continued', continues(previous, entry));
    } else {
      entry.node ??= entry.build();
    }
    nodes.push(entry.node);
    previous = entry;
  }
  // Entries that left the window let go of their nodes; they are built again if they come back.
  for (const entry of conv.drawn ?? []) {
    if (!drawn.has(entry)) entry.node = entry.divider = null;
  }
  conv.drawn = drawn;
  if (win.end === entries.length) nodes.push(...conv.pending);
  return nodes;
}

function continues(previous, entry) {
  return (
    previous !== undefined &&
    previous.type === 'message' &&
    !previous.deleted &&
    !entry.deleted &&
    previous.author === entry.author &&
    previous.authorId === entry.authorId &&
    previous.day === entry.day &&
    entry.time >= previous.time &&
    entry.time - previous.time < GROUP_MS
  );
}

function dayAbove(entries, index) {
  for (let i = index - 1; i >= Math.max(0, index - DAY_LOOKBACK); i -= 1) {
    if (entries[i].type === 'message' && !entries[i].deleted) return entries[i].day;
  }
  return undefined;
}

function divider(entry, now) {
  const label = dayLabel(entry.time, now);
  if (!entry.divider || entry.dividerLabel !== label) {
    entry.divider = dayDivider(label);
    entry.dividerLabel = label;
  }
  return entry.divider;
}

function edgeKind(conv) {
  return conv.kind === 'room' && conv.hasOlder === false && conv.messageCount > 0 ? 'start' : null;
}

function edgeNode(conv) {
  conv.edge ??= logEdge();
  conv.edge.textContent = `This is the start of ${title(conv)}.`;
  return conv.edge;
}

/**
 * "Loading earlier messages…" floats over the top of the log rather than going into it: a line
 * inserted there would move everything below it, and cost a layout, for a moment's notice.
 */
export function showLoading() {
  ui.loading.hidden = !(session.visible && session.visible.olderPending);
}

/** Makes the log's children exactly `nodes`: removes the others first, then inserts what is missing. */
function reconcile(log, nodes) {
  const keep = new Set(nodes);
  for (const child of [...log.children]) if (!keep.has(child)) child.remove();
  let cursor = log.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else log.insertBefore(node, cursor);
  }
}

/** The visible log was scrolled. */
export function onScroll(conv) {
  if (conv === session.visible) queueEdgeCheck();
}

function queueEdgeCheck() {
  if (edgeQueued) return;
  edgeQueued = true;
  requestAnimationFrame(() => {
    edgeQueued = false;
    if (session.visible) checkEdges(session.visible);
  });
}

/** Within a screen of either end of the window: slide it, or ask the server for older messages. */
function checkEdges(conv) {
  const { log, win, entries } = conv;
  // Not while a change waits to be drawn: the DOM does not show it yet (the draw checks again).
  if (!log.isConnected || log.clientHeight === 0 || dirty.has(conv)) return;
  const reach = log.clientHeight;
  if (log.scrollTop < reach) {
    if (win.start > 0) {
      win.start = Math.max(0, win.start - SLIDE);
      conv.trim = 'bottom';
      return draw(conv);
    }
    requestOlder(conv);
  } else if (log.scrollHeight - log.scrollTop - log.clientHeight < reach && win.end < entries.length) {
    win.end = Math.min(entries.length, win.end + SLIDE);
    conv.trim = 'top';
    return draw(conv);
  }
  ui.jump.hidden = win.end === entries.length && log.scrollHeight - log.scrollTop - log.clientHeight < 2 * reach;
}

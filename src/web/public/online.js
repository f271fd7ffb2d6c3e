// Everyone connected, in any room ("Online" in the side panel), so a direct message can go to
// anyone, not only to the members of the room on screen. The list comes from GET /api/users, a
// page at a time in connection order, and is kept current by the socket: joins and `presence`
// name people who are online, `nick_update` renames them. A leave may or may not be a disconnect,
// so it brings a fetch of the list a moment later; and the list is fetched every REFRESH_MS while
// the page is visible, which also finds people who are in none of this page's rooms.
import { fetchUsers } from './api.js';
import { session } from './state.js';
import { ui } from './ui.js';
import * as view from './view.js';

const PAGE = 100; // names fetched at first and per "Show more"
const MAX_PAGE = 1000; // the most GET /api/users hands out at once
const REFRESH_MS = 30000;
const SETTLE_MS = 1000; // after a leave, wait for the ones that come with it
const MIN_GAP_MS = 3000; // at most one fetch in this window: a reconnect storm brings leaves every second
const NARROW = '(max-width: 640px)';

const online = {
  names: [], // in connection order: the first pages of GET /api/users, then who connected since
  known: new Set(),
  total: 0,
  fetch: 0, // the number of the newest fetch of the first page: an older answer is dropped
  fetchedAt: -Infinity,
  during: null, // what the socket said while the first page was on its way: [kind, ...names]
  loadingMore: false,
  timer: null,
  drawQueued: false,
};

// The next page is fetched once the list's "and N more" line is scrolled into view.
const moreObserver = new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) void loadMoreOnline();
});

export function startOnlineRefresh() {
  // On a phone the list starts folded: the room's members are above the conversation already.
  if (window.matchMedia(NARROW).matches) ui.online.open = false;
  setInterval(() => {
    if (document.visibilityState === 'visible') void refreshOnline();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && Date.now() - online.fetchedAt > REFRESH_MS) void refreshOnline();
  });
}

/** Fetches the first pages again (as many names as are listed now, at least PAGE). */
export async function refreshOnline() {
  clearTimeout(online.timer);
  online.timer = null;
  online.fetch += 1;
  const fetch = online.fetch;
  online.fetchedAt = Date.now();
  online.during = [];
  let page;
  try {
    page = await fetchUsers({ limit: Math.min(MAX_PAGE, Math.max(PAGE, online.names.length)) });
  } catch {
    return; // kept as it was; the next refresh tries again
  }
  if (fetch !== online.fetch) return;
  const during = online.during;
  online.during = null;
  setNames(page.users, page.total);
  // Joins and renames that may have come after the server answered: each is a no-op if it did not.
  for (const [kind, ...names] of during) {
    if (kind === 'join') noteOnline(names[0]);
    else renameOnline(names[0], names[1]);
  }
  draw();
}

export async function loadMoreOnline() {
  if (online.loadingMore || online.names.length >= online.total) return;
  online.loadingMore = true;
  try {
    const page = await fetchUsers({ offset: online.names.length, limit: PAGE });
    setNames([...online.names, ...page.users], page.total);
  } catch {
    // the button stays; pressing it again tries again
  } finally {
    online.loadingMore = false;
  }
  draw();
}

function setNames(names, total) {
  online.known = new Set(names);
  online.names = [...online.known];
  online.total = Math.max(total, online.names.length);
}

/** Someone is online. Added when the list is complete (so they are new); a partial list just waits for its next page. */
export function noteOnline(name) {
  if (typeof name !== 'string' || online.known.has(name)) return;
  online.during?.push(['join', name]);
  if (online.names.length < online.total) return;
  online.known.add(name);
  online.names.push(name);
  online.total += 1;
  draw();
}

export function renameOnline(previous, nickname) {
  online.during?.push(['rename', previous, nickname]);
  if (!online.known.delete(previous)) return;
  const at = online.names.indexOf(previous);
  // Already listed under the new name (someone who left took it back before the list was fetched again).
  if (online.known.has(nickname)) online.names.splice(at, 1);
  else online.names[at] = nickname;
  online.known.add(nickname);
  draw();
}

/** Someone left a room: fetch the list again soon (not sooner than MIN_GAP_MS after the last time). */
export function refreshOnlineSoon() {
  if (online.timer !== null) return;
  const wait = Math.max(SETTLE_MS, online.fetchedAt + MIN_GAP_MS - Date.now());
  online.timer = setTimeout(() => void refreshOnline(), wait);
}

/** At most once per frame, however many changes came in it. */
export function draw() {
  if (online.drawQueued) return;
  online.drawQueued = true;
  const run = () => {
    if (!online.drawQueued) return;
    online.drawQueued = false;
    render();
  };
  requestAnimationFrame(run);
  setTimeout(run, 100); // a hidden tab runs no animation frames
}

/** You first, then the others by name; a partial list ends with "and N more". */
function render() {
  const names = online.names.filter((name) => name !== session.me).sort((a, b) => a.localeCompare(b));
  if (session.me) names.unshift(session.me);
  const items = names.map((name) => view.personItem(name, name === session.me, 'online-user'));
  const more = Math.max(0, online.total - names.length); // you are listed even before your page of the list comes
  moreObserver.disconnect();
  if (more > 0) {
    items.push(view.moreItem(more, 'online-more'));
    moreObserver.observe(items[items.length - 1]);
  }
  ui.onlineUsers.replaceChildren(...items);
  ui.onlineCount.textContent = String(Math.max(online.total, names.length));
}

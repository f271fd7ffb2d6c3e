// The parts of the page drawn from state: the people list, the typing line, the room directory,
// your nickname and the tab's title.
import { fetchRooms } from './api.js';
import { loadMore, unlisted } from './members.js';
import { dms, rooms, session, title } from './state.js';
import { ui } from './ui.js';
import * as view from './view.js';

let directory = []; // the last GET /api/rooms answer

// The next page of a partial list is fetched once its "and N more" entry is scrolled into view.
const moreObserver = new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) loadMore(session.peopleRoom);
});

/** The room's members by name, and its member count; a partial list ends with "and N more". */
export function renderPeople() {
  const room = session.peopleRoom;
  if (!room) return;
  const names = [...room.members].sort((a, b) => a.localeCompare(b));
  const items = names.map((name) => view.personItem(name, name === session.me));
  const more = unlisted(room);
  moreObserver.disconnect();
  if (more > 0) {
    items.push(view.moreItem(more));
    moreObserver.observe(items[items.length - 1]);
  }
  ui.users.replaceChildren(...items);
  ui.userCount.textContent = String(Math.max(room.total, names.length));
  ui.peopleRoom.textContent = title(room);
}

export function renderTyping() {
  const { visible } = session;
  const names = visible && visible.kind === 'room' ? [...visible.typers.keys()].sort((a, b) => a.localeCompare(b)) : [];
  ui.typing.textContent = view.typingText(names);
}

export function renderDirectory() {
  if (ui.directory.hidden) return;
  ui.directoryList.replaceChildren(...directory.map((room) => view.directoryItem(room, rooms.has(room.name))));
}

export async function loadDirectory() {
  ui.directoryStatus.textContent = 'Loading rooms…';
  try {
    directory = await fetchRooms();
    ui.directoryStatus.textContent = directory.length === 0 ? 'No rooms yet.' : '';
    renderDirectory();
  } catch {
    ui.directoryStatus.textContent = 'The room list could not be loaded. Try again in a moment.';
  }
}

/** The tab's title: unread count, the conversation on screen, and which server this is. */
export function updateTitle() {
  let unread = 0;
  for (const conv of [...rooms.values(), ...dms.values()]) unread += conv.unread;
  const { visible } = session;
  document.title = `${unread > 0 ? `(${unread}) ` : ''}${visible ? `${title(visible)} · ` : ''}nest-chat — ${location.host}`;
}

/** The server this page talks to, in the header. */
export function renderTitle() {
  ui.server.textContent = location.host;
  updateTitle();
}

/** Your nickname, as text (the box below it is for a new one). */
export function renderMe() {
  ui.me.textContent = session.me;
  ui.me.title = session.userId ? `User id: ${session.userId}` : session.me;
}

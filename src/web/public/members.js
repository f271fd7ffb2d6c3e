// A room's member list (docs/protocol.md, "Presence in large rooms"). `presence` pages set it,
// join/leave notifications, `presence_diff` and `nick_update` keep it current. In a large room it
// may be partial: `total` is the server's exact count, and more is paged in with `who`.
//
// Per room: `members` (the names shown), `total`, and `paged`, the members that came in `presence`
// pages and are still here. Those are a prefix of the server's join order (a joiner goes last), so
// `paged.size` is the offset of the next page even after some of them left.
import { send } from './connection.js';
import { session } from './state.js';

const MORE_LIMIT = 100; // names per `who` page fetched on scroll or request
const REFRESH_MS = 3000; // at most one full re-fetch per room in this window (a storm brings many partial diffs)

export function createMembers() {
  return {
    members: new Set(),
    total: 0,
    paged: new Set(),
    paging: false, // a `who` for the next page is on its way
    stalled: false, // the last page brought nothing new: page again only when asked
    stale: false, // a partial diff came: fetch the first page again
    refreshedAt: -Infinity,
    refreshTimer: null,
  };
}

/** Forgets the list (a new connection): `presence` replies fill it again. */
export function resetMembers(room) {
  room.members.clear();
  room.paged.clear();
  room.total = 0;
  room.paging = false;
  room.stalled = false;
}

/** How many members are not listed. */
export function unlisted(room) {
  return Math.max(0, room.total - room.members.size);
}

/** A page of members in join order: the first one replaces the list, later ones add to it. */
export function applyPresence(room, users, total, offset) {
  const names = Array.isArray(users) ? users : [];
  const first = !(offset > 0);
  if (first) {
    room.members.clear();
    room.paged.clear();
    room.stale = false;
  }
  const before = room.members.size;
  for (const name of names) {
    room.members.add(name);
    room.paged.add(name);
  }
  // This page is where we are, even when it comes after our own join (not in the first page).
  if (session.me) room.members.add(session.me);
  room.total = Number.isSafeInteger(total) ? total : room.members.size;
  room.paging = false;
  room.stalled = !first && room.members.size === before; // nothing new: do not page again on its own
}

export function applyJoin(room, name) {
  if (room.members.has(name)) return; // our own join, already in the presence
  addJoiner(room, name, room.paged.size >= room.total);
  room.total += 1;
}

export function applyLeave(room, name) {
  room.members.delete(name);
  room.paged.delete(name);
  room.total = Math.max(0, room.total - 1);
}

/** Applies what a diff lists; a partial one (a total over its list) means the list must be fetched again. */
export function applyDiff(room, frame) {
  const joins = Array.isArray(frame.joins) ? frame.joins : [];
  const leaves = Array.isArray(frame.leaves) ? frame.leaves : [];
  const complete = room.paged.size >= room.total;
  for (const name of leaves) {
    room.members.delete(name);
    room.paged.delete(name);
  }
  for (const name of joins) addJoiner(room, name, complete);
  room.total = Number.isSafeInteger(frame.usersTotal) ? frame.usersTotal : room.members.size;
  room.stalled = false;
  if (frame.joinsTotal > joins.length || frame.leavesTotal > leaves.length) refresh(room);
}

/** A joiner goes last in join order: part of the paged prefix when that prefix was everyone. */
function addJoiner(room, name, complete) {
  room.members.add(name);
  if (complete) room.paged.add(name);
}

/** Returns whether the room listed `previous`. */
export function renameMember(room, previous, nickname) {
  if (room.paged.delete(previous)) room.paged.add(nickname);
  if (!room.members.delete(previous)) return false;
  room.members.add(nickname);
  return true;
}

/** Asks for the next page, unless one is on its way. `force`: the user asked, even after an empty page. */
export function loadMore(room, force = false) {
  if (!room || room.paging || unlisted(room) === 0 || (room.stalled && !force)) return;
  if (send('who', { room: room.name, offset: room.paged.size, limit: MORE_LIMIT })) room.paging = true;
}

/** A room whose list went stale while another was shown is fetched again once it is on screen. */
export function refreshIfStale(room) {
  if (room.stale) refresh(room);
}

/** Fetches the first page again: now, or once REFRESH_MS has passed since the last time. */
function refresh(room) {
  room.stale = true;
  if (room !== session.peopleRoom || room.refreshTimer !== null) return;
  const wait = room.refreshedAt + REFRESH_MS - Date.now();
  if (wait > 0) {
    room.refreshTimer = setTimeout(() => {
      room.refreshTimer = null;
      if (room.stale) refresh(room); // unless a first page came meanwhile
    }, wait);
    return;
  }
  if (!send('who', { room: room.name })) return; // offline: the welcome's `who` will do
  room.refreshedAt = Date.now();
  room.stale = false;
}

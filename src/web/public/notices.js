// Join, leave and rename notices, collapsed: the events that follow one another in a conversation
// (with nothing else in between, within GROUP_MS) share one line, "ann, ben and cal joined",
// "alice, bob and 2 others left". Each person counts once, by what changed over the group: a
// guest who joined and took a name counts as joined under that name; someone who left and came
// back (a reconnect, which comes as a leave, a guest's join and a rename back) as "rejoined".
import { markDirty } from './scroller.js';
import { addNoticeEntry, lastEntry } from './timeline.js';
import { el } from './view.js';

const GROUP_MS = 5 * 60 * 1000;

/** A membership event: {kind: 'join' | 'leave' | 'nick', nickname, previous (for 'nick')}. */
export function addEvent(conv, event) {
  const now = Date.now();
  const last = lastEntry(conv);
  let entry = last && last.type === 'events' && now - last.lastAt < GROUP_MS ? last : null;
  if (!entry) {
    entry = { type: 'events', people: [], events: [], lastAt: now };
    entry.build = () => eventsItem(entry);
    addNoticeEntry(conv, entry);
  }
  apply(entry.people, event);
  entry.events.push(eventText(event));
  entry.lastAt = now;
  if (entry.node) fill(entry.node, entry);
  markDirty(conv);
}

/** people: {start (name at the group's start), name (now), before, now (present), bounced}. */
function apply(people, { kind, nickname, previous }) {
  const find = (name, present) => people.find((p) => p.name === name && p.now === present);
  if (kind === 'join') {
    const gone = find(nickname, false);
    if (gone) Object.assign(gone, { now: true, bounced: true });
    else if (!find(nickname, true)) people.push({ start: nickname, name: nickname, before: false, now: true });
  } else if (kind === 'leave') {
    const here = find(nickname, true);
    if (here) here.now = false;
    else if (!find(nickname, false)) people.push({ start: nickname, name: nickname, before: true, now: false });
  } else {
    let person = find(previous, true);
    if (!person) {
      person = { start: previous, name: previous, before: true, now: true };
      people.push(person);
    }
    person.name = nickname;
    const gone = people.find((p) => p !== person && p.name === nickname && p.before && !p.now);
    if (gone && !person.before) {
      Object.assign(gone, { now: true, bounced: true });
      people.splice(people.indexOf(person), 1);
    }
  }
}

function eventText({ kind, nickname, previous }) {
  if (kind === 'join') return `${nickname} joined`;
  if (kind === 'leave') return `${nickname} left`;
  return `${previous} is now known as ${nickname}`;
}

/** "ann", "ann and ben", "ann, ben and cal", "ann, ben and 2 others". */
export function listNames(names) {
  if (names.length <= 2) return names.join(' and ');
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}

export function summary(people) {
  const named = (test) => people.filter(test).map((p) => p.name);
  const joined = named((p) => !p.before && p.now);
  const back = named((p) => p.before && p.now && p.bounced && p.start === p.name);
  const visited = named((p) => !p.before && !p.now);
  const left = named((p) => p.before && !p.now);
  const renamed = people.filter((p) => p.before && p.now && p.start !== p.name);
  const parts = [];
  if (joined.length > 0) parts.push(`${listNames(joined)} joined`);
  if (back.length > 0) parts.push(`${listNames(back)} rejoined`);
  if (visited.length > 0) parts.push(`${listNames(visited)} joined and left`);
  if (left.length > 0) parts.push(`${listNames(left)} left`);
  if (renamed.length === 1) parts.push(`${renamed[0].start} is now known as ${renamed[0].name}`);
  if (renamed.length > 1) parts.push(`${listNames(renamed.map((p) => p.name))} changed their nicknames`);
  return parts.join('; ');
}

function eventsItem(entry) {
  const item = el('li', 'entry notice notice-events');
  item.dataset.testid = 'notice';
  fill(item, entry);
  return item;
}

/** The line says what changed overall; hovering it lists each event. Nothing changed: no line. */
function fill(item, entry) {
  const text = summary(entry.people);
  item.textContent = text;
  item.hidden = text === '';
  if (entry.events.length > 1) item.title = entry.events.join('\n');
}

// The REST endpoints the client reads: message pages (catch-up), the room list and who is online.

const JSON_HEADERS = { accept: 'application/json' };

/** One page of GET /api/messages; throws when the request fails. */
export async function fetchPage(params) {
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const res = await fetch(`/api/messages?${query}`, { headers: JSON_HEADERS });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return { messages: Array.isArray(body.messages) ? body.messages : [], hasMore: body.hasMore === true };
}

/** The rooms of GET /api/rooms ({name, members, lastMessageId}); throws when the request fails. */
export async function fetchRooms() {
  const res = await fetch('/api/rooms', { headers: JSON_HEADERS });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return Array.isArray(body.rooms) ? body.rooms : [];
}

/** One page of GET /api/users (everyone connected, in connection order): {users: names, total}. */
export async function fetchUsers(params) {
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const res = await fetch(`/api/users?${query}`, { headers: JSON_HEADERS });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  const users = Array.isArray(body.users) ? body.users.map((user) => user && user.nickname).filter((name) => typeof name === 'string') : [];
  return { users, total: Number.isSafeInteger(body.total) ? body.total : users.length };
}

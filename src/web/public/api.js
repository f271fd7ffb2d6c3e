// The REST endpoints the client reads: message pages (catch-up), the room list and who is online.
// Signed in, each request carries the token (Authorization: Bearer); signed out, none is made.
import { authHeaders, isSignedInMode, signIn } from './auth.js';
import { noteUserId } from './state.js';

function get(path) {
  if (isSignedInMode() && !signIn.token) return Promise.reject(new Error('signed out'));
  return fetch(path, { headers: { accept: 'application/json', ...authHeaders() } });
}

/** One page of GET /api/messages; throws when the request fails. */
export async function fetchPage(params) {
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const res = await get(`/api/messages?${query}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return { messages: Array.isArray(body.messages) ? body.messages : [], hasMore: body.hasMore === true };
}

/** The rooms of GET /api/rooms ({name, members, lastMessageId}, signed in also visibility); throws when the request fails. */
export async function fetchRooms() {
  const res = await get('/api/rooms');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return Array.isArray(body.rooms) ? body.rooms : [];
}

/** Signed in: the user's direct conversations (GET /api/dm), newest first; throws when the request fails (404 without sign-in). */
export async function fetchConversations() {
  const res = await get('/api/dm');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return Array.isArray(body.conversations) ? body.conversations : [];
}

/** Signed in: one page of a conversation with `userId` (GET /api/dm/:user), oldest first; throws when the request fails. */
export async function fetchDirectPage(userId, params) {
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const res = await get(`/api/dm/${encodeURIComponent(userId)}?${query}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  return { messages: Array.isArray(body.messages) ? body.messages : [], hasMore: body.hasMore === true };
}

/** One page of GET /api/users (everyone connected, in connection order): {users: names, total}. */
export async function fetchUsers(params) {
  const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const res = await get(`/api/users?${query}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = await res.json();
  if (Array.isArray(body.users)) for (const user of body.users) noteUserId(user?.nickname, user?.userId);
  const users = Array.isArray(body.users) ? body.users.map((user) => user && user.nickname).filter((name) => typeof name === 'string') : [];
  return { users, total: Number.isSafeInteger(body.total) ? body.total : users.length };
}

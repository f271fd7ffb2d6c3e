// The yardstick, not the product: raw `ws` + better-sqlite3 speaking the product's core
// protocol (welcome, history, join/leave, broadcast, ack, resume URL, REST history), no framework.
// Same env variables as the product: PORT, SQLITE_PATH, HEARTBEAT_INTERVAL_MS, SQLITE_SYNCHRONOUS, RESUME_MAX.
import Database from 'better-sqlite3';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const env = process.env;
const GENERAL = 'general';
const RESUME_MAX = Number(env.RESUME_MAX || 1000);
const TEXT = { binary: false } as const;

const db = new Database(env.SQLITE_PATH || 'baseline.sqlite');
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${env.SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`);
// The product's table and indexes, so both pay for the same writes.
db.exec(`CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, room VARCHAR(64) NOT NULL,
  nickname VARCHAR(32) NOT NULL, body TEXT NOT NULL, sent_at VARCHAR(24) NOT NULL, client_msg_id VARCHAR(64));
  CREATE INDEX IF NOT EXISTS idx_messages_room_id ON messages (room, id);
  CREATE UNIQUE INDEX IF NOT EXISTS uq_messages_room_client_msg_id ON messages (room, client_msg_id);`);
const COLUMNS = 'id, room, nickname, body, sent_at AS sentAt, client_msg_id AS clientMsgId';
// One INSERT per message, committed on its own (no group commit).
const insert = db.prepare('INSERT INTO messages (room, nickname, body, sent_at, client_msg_id) VALUES (?, ?, ?, ?, ?)');
const newestBefore = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?`);
const newestSince = db.prepare(`SELECT ${COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id DESC LIMIT ?`);

interface Row {
  id: number;
  room: string;
  nickname: string;
  body: string;
  sentAt: string;
  clientMsgId: string | null;
}
interface Client {
  nickname: string;
  rooms: string[];
  alive: boolean;
}
const clients = new Map<WebSocket, Client>();
const members = new Map<string, Set<WebSocket>>();
let guests = 0;

const frameOf = (r: Row) => ({ type: 'message', id: r.id, room: r.room, nickname: r.nickname, message: r.body, sentAt: r.sentAt, ...(r.clientMsgId === null ? {} : { clientMsgId: r.clientMsgId }) });
const send = (ws: WebSocket, frame: object) => ws.send(Buffer.from(JSON.stringify(frame)), TEXT);
const notice = (event: string, room: string, nickname: string) => ({ type: 'notification', event, room, nickname, message: `${nickname} ${event === 'join' ? 'joined' : 'left'}` });

/** Serialized once; the per-recipient work is the socket write. */
function toRoom(room: string, frame: object): void {
  const data = Buffer.from(JSON.stringify(frame));
  for (const ws of members.get(room) ?? []) ws.send(data, TEXT);
}

function page(room: string, before: number, limit: number) {
  const rows = newestBefore.all(room, before, limit + 1) as Row[];
  return { messages: rows.slice(0, limit).reverse().map(frameOf), hasMore: rows.length > limit };
}

function connect(ws: WebSocket, request: IncomingMessage): void {
  const query = new URL(request.url ?? '/', 'http://x').searchParams;
  const resume = query.has('since') || query.has('rooms');
  const client: Client = { nickname: `Guest${++guests}`, rooms: resume ? (query.get('rooms') ?? GENERAL).split(',') : [GENERAL], alive: true };
  clients.set(ws, client);
  for (const room of client.rooms) {
    const set = members.get(room);
    if (set) set.add(ws);
    else members.set(room, new Set([ws]));
  }
  const users = Array.from(clients.values(), (c) => c.nickname);
  send(ws, { type: 'welcome', nickname: client.nickname, message: `Welcome, ${client.nickname}`, users, room: GENERAL, rooms: client.rooms });
  if (resume) {
    const since = Number(query.get('since') ?? 0);
    const replay = client.rooms.flatMap((room) => newestSince.all(room, since, RESUME_MAX) as Row[]).sort((a, b) => a.id - b.id);
    for (const row of replay) send(ws, frameOf(row));
    send(ws, { type: 'resumed', lastId: replay.at(-1)?.id ?? since });
  } else {
    send(ws, { type: 'history', room: GENERAL, ...page(GENERAL, Number.MAX_SAFE_INTEGER, 50) });
  }
  for (const room of client.rooms) toRoom(room, notice('join', room, client.nickname));
  ws.on('message', (raw, isBinary) => onFrame(ws, client, raw, isBinary));
  ws.on('pong', () => (client.alive = true));
  ws.on('close', () => {
    clients.delete(ws);
    for (const room of client.rooms) members.get(room)?.delete(ws);
    for (const room of client.rooms) toRoom(room, notice('leave', room, client.nickname));
  });
}

function onFrame(ws: WebSocket, client: Client, raw: RawData, isBinary: boolean): void {
  const text = (raw as Buffer).toString();
  const error = (code: string, message: string) => send(ws, { type: 'error', code, message });
  if (isBinary) return error('BAD_FRAME', 'Binary frames are not supported');
  let event = 'message';
  let data: Record<string, unknown> = { message: text };
  if (text[0] === '{') {
    try {
      const frame = JSON.parse(text) as { event?: unknown; data?: Record<string, unknown> };
      event = String(frame.event);
      data = frame.data ?? {};
    } catch {
      return error('BAD_JSON', 'Frame is not valid JSON');
    }
  }
  if (event === 'history') {
    const before = Number(data.before ?? Number.MAX_SAFE_INTEGER);
    return send(ws, { type: 'history', room: GENERAL, ...page(GENERAL, before, Number(data.limit ?? 50)) });
  }
  if (event !== 'message') return error('UNKNOWN_EVENT', `Unknown event "${event}"`);
  const { message, clientMsgId } = data;
  const room = typeof data.room === 'string' ? data.room : GENERAL;
  if (typeof message !== 'string' || !/\S/.test(message) || message.length > 4000) return error('VALIDATION', 'bad message');
  if (!client.rooms.includes(room)) return error('NOT_IN_ROOM', `You are not in room "${room}"`);
  const id = typeof clientMsgId === 'string' ? clientMsgId : null;
  const sentAt = new Date().toISOString();
  let lastInsertRowid: number | bigint;
  try {
    ({ lastInsertRowid } = insert.run(room, client.nickname, message, sentAt, id));
  } catch {
    return error('UNAVAILABLE', 'not stored'); // e.g. a repeated clientMsgId: the baseline does not deduplicate
  }
  const row: Row = { id: Number(lastInsertRowid), room, nickname: client.nickname, body: message, sentAt, clientMsgId: id };
  if (id !== null) send(ws, { type: 'ack', clientMsgId: id, id: row.id, room });
  toRoom(room, frameOf(row));
}

function rest(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const reply = (status: number, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (url.pathname === '/health/live') return reply(200, { status: 'ok' });
  if (url.pathname !== '/api/messages') return reply(404, { statusCode: 404 });
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const before = Number(url.searchParams.get('before') ?? Number.MAX_SAFE_INTEGER);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200 || !Number.isInteger(before) || before < 1) return reply(400, { statusCode: 400 });
  reply(200, page(url.searchParams.get('room') ?? GENERAL, before, limit));
}

const http = createServer(rest);
const wss = new WebSocketServer({ server: http, path: '/', perMessageDeflate: false, maxPayload: 65536 });
wss.on('connection', connect);
const heartbeat = setInterval(() => {
  for (const [ws, client] of clients) {
    if (!client.alive) {
      ws.terminate();
      continue;
    }
    client.alive = false;
    ws.ping();
  }
}, Number(env.HEARTBEAT_INTERVAL_MS || 30000));
http.listen(Number(env.PORT || 8091));
process.once('SIGTERM', () => {
  clearInterval(heartbeat);
  for (const ws of clients.keys()) ws.terminate();
  http.close();
  db.close();
  process.exit(0);
});

// The peer a NestJS team would pick instead of the product for N nodes: Socket.IO 4 with
// @socket.io/redis-adapter, speaking the product's core contract with the product's JSON frames as
// Socket.IO events (`welcome`, `notification`, `message`, `ack`, `error`). No database: ids come from
// a counter in memory, nothing is stored and there is no history or resume, which is work the
// product does and this server does not (in its favour in every figure).
// Env: PORT, REDIS_URL (unset: one node, Socket.IO's in-memory adapter), CLUSTER_PREFIX (the
// adapter's channel prefix), INSTANCE (this node's number, 0..9), HEARTBEAT_INTERVAL_MS.
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server, type Socket } from 'socket.io';

const env = process.env;
const GENERAL = 'general';
const INSTANCE = Number(env.INSTANCE || 0);
/** Ids unique across up to 10 nodes without a shared counter: node n hands out n, n + 10, n + 20 … */
const NODES = 10;
let nextId = INSTANCE;
let guests = 0;

const notice = (event: 'join' | 'leave', room: string, nickname: string) => ({ type: 'notification', event, room, nickname, message: `${nickname} ${event === 'join' ? 'joined' : 'left'}` });

function rest(req: IncomingMessage, res: ServerResponse): void {
  // Socket.IO answers its own path before this handler; everything else is the liveness probe or 404.
  const ok = req.url === '/health/live';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { status: 'ok' } : { statusCode: 404 }));
}

const http = createServer(rest);
const heartbeat = Number(env.HEARTBEAT_INTERVAL_MS || 25_000);
// Socket.IO's defaults otherwise (permessage-deflate off, polling allowed); the clients go straight to WebSocket.
const io = new Server(http, { serveClient: false, pingInterval: heartbeat, pingTimeout: 20_000, maxHttpBufferSize: 65_536 });
const redis: Redis[] = [];
if (env.REDIS_URL) {
  const pub = new Redis(env.REDIS_URL);
  const sub = pub.duplicate();
  redis.push(pub, sub);
  io.adapter(createAdapter(pub, sub, { key: env.CLUSTER_PREFIX || 'socket.io' }));
}

function rooms(socket: Socket): string[] {
  const query = socket.handshake.query.rooms;
  return typeof query === 'string' && query !== '' ? query.split(',') : [GENERAL];
}

io.on('connection', (socket) => {
  const nickname = `Guest${INSTANCE}x${++guests}`;
  const joined = rooms(socket);
  void socket.join(joined);
  socket.emit('welcome', { type: 'welcome', nickname, message: `Welcome, ${nickname}`, room: GENERAL, rooms: joined });
  for (const room of joined) io.to(room).emit('notification', notice('join', room, nickname));
  socket.on('message', (data: unknown) => onMessage(socket, nickname, joined, data));
  socket.on('disconnect', () => {
    for (const room of joined) io.to(room).emit('notification', notice('leave', room, nickname));
  });
});

function onMessage(socket: Socket, nickname: string, joined: string[], data: unknown): void {
  const error = (code: string, message: string): void => void socket.emit('error', { type: 'error', code, message });
  const { message, room = GENERAL, clientMsgId } = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof message !== 'string' || !/\S/.test(message) || message.length > 4000 || typeof room !== 'string') return error('VALIDATION', 'bad message');
  if (!joined.includes(room)) return error('NOT_IN_ROOM', `You are not in room "${room}"`);
  const id = nextId;
  nextId += NODES;
  const frame = { type: 'message', id, room, nickname, message, sentAt: new Date().toISOString(), ...(typeof clientMsgId === 'string' ? { clientMsgId } : {}) };
  if (typeof clientMsgId === 'string') socket.emit('ack', { type: 'ack', clientMsgId, id, room });
  // Encoded once by the adapter, written to the local members, and published once to the other nodes.
  io.to(room).emit('message', frame);
}

http.listen(Number(env.PORT || 8092));
process.once('SIGTERM', () => {
  void io.close();
  for (const client of redis) client.disconnect();
  process.exit(0);
});

import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

/**
 * `ws` writes every frame to its socket at once, one system call each. A group commit resolves
 * a whole batch of messages in one turn, so a client is sent several frames in a row (acks,
 * echoes, deliveries): corking its socket until the end of the turn sends them in one writev.
 *
 * ws has no public cork API. Its `_socket` is the connection's net.Socket; this module is the one
 * place that reaches for it, and socket-batch.spec.ts fails if ws stops exposing it.
 */
interface WsInternals {
  _socket?: Socket | null;
  /** 0 (DEFAULT) when nothing is queued behind a compression or a Blob read. */
  _sender?: { _state: number; _firstFragment: boolean } | null;
}

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}

/** ws's public static Sender.frame, which @types/ws does not declare. */
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const TEXT: FrameOptions = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true };
const SENDER_IDLE = 0;

export function netSocketOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as WsInternals)._socket ?? undefined;
}

const corked = new Set<Socket>();

/**
 * Holds `ws`'s writes until the current turn ends. The uncork runs on process.nextTick: after
 * the synchronous code and the promise continuations of this turn (a group commit resolves its
 * callers as microtasks, and ticks queued from them run once those drain), before any I/O or
 * timer, so batching adds no latency beyond the turn that produced the frames.
 */
export function corkUntilEndOfTurn(ws: WebSocket): void {
  const socket = netSocketOf(ws);
  if (socket) cork(socket);
}

function cork(socket: Socket): void {
  if (corked.has(socket)) return;
  if (corked.size === 0) process.nextTick(uncorkAll);
  socket.cork();
  corked.add(socket);
}

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Payloads up to this size are copied behind their header once, so each recipient gets one buffer. */
const COPY_LIMIT = 16 * 1024;

/** The last payload framed, and its frame: a broadcast writes the same payload to each recipient in a row. */
let lastData: Buffer | undefined;
let lastFrame: Buffer[] = [];

/**
 * Writes `data` as one text frame, corked until the end of the turn; false if it cannot, and the
 * caller sends it through ws. The frame is built once per payload and written to each recipient's
 * socket as is, instead of ws building a header per recipient: header and payload in one buffer
 * for chat-sized payloads, as two buffers (no copy) for large ones such as a welcome listing
 * thousands of users, whose copies would only churn memory. Only while ws's sender is idle
 * (nothing queued behind a compression or a Blob read, no fragmented message open), so frames stay
 * in order. The caller checks readyState.
 */
export function writeTextFrame(ws: WebSocket, data: Buffer): boolean {
  const socket = netSocketOf(ws);
  const sender = (ws as unknown as WsInternals)._sender;
  if (!socket || !sender || sender._state !== SENDER_IDLE || !sender._firstFragment) return false;
  cork(socket);
  if (data !== lastData) {
    const parts = Sender.frame(data, TEXT);
    lastFrame = data.length <= COPY_LIMIT ? [Buffer.concat(parts)] : parts;
    lastData = data;
  }
  for (const part of lastFrame) socket.write(part);
  return true;
}

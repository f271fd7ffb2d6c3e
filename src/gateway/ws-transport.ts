import { WebSocket } from 'ws';
import type { Session } from '../hub/session';
import type { Transport } from '../hub/transport';
import { netSocketOf, writeTextFrame } from './socket-batch';

const TEXT_FRAME = { binary: false } as const;
const DRAIN_POLL_MS = 50;

/** The hub's Transport over a `ws` socket: frames are written corked and framed once (socket-batch.ts). */
export class WsTransport implements Transport {
  constructor(private readonly socket: WebSocket) {}

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  write(data: Buffer): void {
    // Through ws when it has frames of its own queued, so the order holds.
    if (!writeTextFrame(this.socket, data)) this.socket.send(data, TEXT_FRAME);
  }

  close(code: number, reason: string, graceMs: number): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(code, reason);
    });
  }

  terminate(): void {
    this.socket.terminate();
  }

  /** Waits for the connection's `drain` (the kernel took the queue), re-checking now and then. */
  drained(bytes: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.socket.readyState !== WebSocket.OPEN || this.socket.bufferedAmount <= bytes) {
          clearInterval(poll);
          net?.off('drain', check);
          this.socket.off('close', check);
          resolve();
        }
      };
      const net = netSocketOf(this.socket);
      const poll = setInterval(check, DRAIN_POLL_MS);
      net?.on('drain', check);
      this.socket.on('close', check);
      check();
    });
  }
}

/** Each socket's session, from its connect until it is gone. */
const sessions = new WeakMap<WebSocket, Session>();

export function bindSession(socket: WebSocket, session: Session): void {
  sessions.set(socket, session);
}

export function sessionOf(socket: WebSocket): Session | undefined {
  return sessions.get(socket);
}

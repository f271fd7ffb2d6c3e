import type { WebSocket } from 'ws';
import { encodeFrame, type ServerFrame } from '../chat/protocol';
import type { DeliveryStats } from '../metrics/chat-metrics.service';

const TEXT_FRAME = { binary: false } as const;
const OPEN = 1;

/** A client that stopped reading and has this much queued is cut off rather than buffered without bound. */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;

const UNCOUNTED: DeliveryStats = { frames: 0 };

interface Held {
  data: Buffer;
  messageId: number;
}

/**
 * One connected client: its socket, the nickname it goes by, and the frames held back
 * while it is still receiving its welcome and history.
 */
export class Session {
  nickname: string;
  readonly connectedAt = new Date();
  /** Live frames broadcast while the history snapshot was being read; null once live. */
  private held: Held[] | null = [];
  private ended = false;

  constructor(
    readonly socket: WebSocket,
    nickname: string,
    readonly remoteAddress: string,
    private readonly stats: DeliveryStats = UNCOUNTED,
  ) {
    this.nickname = nickname;
  }

  get isLive(): boolean {
    return this.held === null;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  markClosed(): void {
    this.ended = true;
    this.held = null;
  }

  /** Sends now, ahead of anything held: the welcome, history and join frames. */
  send(frame: ServerFrame): void {
    this.write(encodeFrame(frame));
  }

  /** Delivers an already-encoded broadcast frame, holding it back if this session is not live yet. */
  deliver(data: Buffer, messageId = 0): void {
    if (this.held) {
      this.held.push({ data, messageId });
    } else {
      this.write(data);
    }
  }

  /**
   * Switches to live delivery: flushes what was held, minus messages the history already
   * contained (id <= lastHistoryId), so nothing is lost or shown twice.
   */
  goLive(lastHistoryId: number): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { data, messageId } of held) {
      if (messageId === 0 || messageId > lastHistoryId) {
        this.write(data);
      }
    }
  }

  write(data: Buffer): void {
    const socket = this.socket;
    if (socket.readyState !== OPEN) {
      return;
    }
    if (socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
      socket.terminate();
      return;
    }
    socket.send(data, TEXT_FRAME);
    this.stats.frames++;
  }
}

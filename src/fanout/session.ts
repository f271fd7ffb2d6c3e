import type { WebSocket } from 'ws';
import { encodeFrame, type ServerFrame } from '../chat/protocol';
import type { DeliveryStats } from '../metrics/chat-metrics.service';
import { writeTextFrame } from './socket-batch';

const TEXT_FRAME = { binary: false } as const;
const OPEN = 1;

/** A client that stopped reading and has this much queued is cut off rather than buffered without bound. */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;

const UNCOUNTED: DeliveryStats = { frames: 0 };
const NO_HISTORY: ReadonlyMap<string, number> = new Map();

interface RoomHold {
  frames: Held[];
  /** False while this is a join whose notification has not been sent yet. */
  announced: boolean;
}

interface Held {
  data: Buffer;
  /** A room message's id, for dropping what a history page already contained; 0 otherwise. */
  messageId: number;
  room: string | undefined;
}

/**
 * One connected client: its socket, nickname and rooms, and the frames held back while
 * it is being sent a history snapshot (all frames while connecting, one room's while joining it).
 */
export class Session {
  nickname: string;
  /** When the client connected, epoch ms (a number, not a Date: 80 bytes less per connection). */
  readonly connectedAt = Date.now();
  readonly rooms = new Set<string>();
  private held: Held[] | null = [];
  private heldRooms: Map<string, RoomHold> | null = null;
  private ended = false;
  private liveSignal: { promise: Promise<void>; resolve: () => void } | null = null;
  private typing: Map<string, number> | null = null;

  constructor(
    readonly socket: WebSocket,
    nickname: string,
    readonly remoteAddress: string,
    private readonly stats: DeliveryStats = UNCOUNTED,
  ) {
    this.nickname = nickname;
  }

  /** Last relayed typing indicator per room (epoch ms), for throttling; created on first use. */
  get typingAt(): Map<string, number> {
    return (this.typing ??= new Map());
  }

  forgetTyping(room: string): void {
    this.typing?.delete(room);
  }

  get isLive(): boolean {
    return this.held === null;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Settles once the connect sequence is over (live or closed); undefined if it already is. */
  whenLive(): Promise<void> | undefined {
    if (this.held === null) return undefined;
    if (!this.liveSignal) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.liveSignal = { promise, resolve };
    }
    return this.liveSignal.promise;
  }

  markClosed(): void {
    this.ended = true;
    this.held = null;
    this.heldRooms = null;
    this.signalLive();
  }

  /** Sends now, ahead of anything held: welcome, history, presence and the joiner's own join frame. */
  send(frame: ServerFrame): void {
    this.write(encodeFrame(frame));
  }

  /** Delivers an already-encoded broadcast frame, or holds it while this session (or its room) is not live yet. */
  deliver(data: Buffer, messageId = 0, room?: string): void {
    const roomHold = room === undefined ? undefined : this.heldRooms?.get(room);
    if (roomHold) {
      roomHold.frames.push({ data, messageId, room });
    } else if (this.held) {
      this.held.push({ data, messageId, room });
    } else {
      this.write(data);
    }
  }

  /**
   * Ends the connect-time hold: flushes what was held, minus room messages the history
   * pages already contained (id <= that room's last history id), so nothing is lost or shown twice.
   */
  goLive(lastHistoryIds: ReadonlyMap<string, number> = NO_HISTORY): void {
    if (this.held === null) return;
    const held = this.held ?? [];
    this.held = null;
    this.flush(held, (room) => lastHistoryIds.get(room) ?? 0);
    this.signalLive();
  }

  /**
   * Holds one room's frames while a history snapshot of it is read: for a `join` (not announced
   * yet), or for a `resume` of a room the session is already in (`announced`).
   */
  holdRoom(room: string, announced = false): void {
    (this.heldRooms ??= new Map()).set(room, { frames: [], announced });
  }

  /** In the middle of a join whose notification has not gone out. */
  isJoining(room: string): boolean {
    return this.heldRooms?.get(room)?.announced === false;
  }

  isHeld(room: string): boolean {
    return this.heldRooms?.has(room) ?? false;
  }

  /** Flushes a room hold, dropping messages up to `lastHistoryId`; `discard` drops everything held. */
  releaseRoom(room: string, lastHistoryId: number, discard = false): void {
    const hold = this.heldRooms?.get(room);
    if (!hold) return;
    this.heldRooms!.delete(room);
    if (!discard) this.flush(hold.frames, () => lastHistoryId);
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
    // Framed once per broadcast, one writev per client per turn; through ws when it has frames queued.
    if (!writeTextFrame(socket, data)) socket.send(data, TEXT_FRAME);
    this.stats.frames++;
  }

  private signalLive(): void {
    this.liveSignal?.resolve();
    this.liveSignal = null;
  }

  private flush(held: Held[], lastHistoryId: (room: string) => number): void {
    for (const { data, messageId, room } of held) {
      if (messageId === 0 || room === undefined || messageId > lastHistoryId(room)) {
        this.write(data);
      }
    }
  }
}

import { randomBytes } from 'node:crypto';
import { encodeFrame, type ServerFrame } from '../protocol/frames';
import { isAdmin, type Identity } from '../protocol/identity';
import { Authored } from './authored';
import type { Transport } from './transport';
import type { Member, User } from './user';

/**
 * A client that has left this much unread for longer than SLOW_CONSUMER_GRACE_MS is cut off
 * rather than buffered without bound. Only what it has had time to read counts: what the server
 * queued in earlier turns of the event loop, not the burst it is writing in this one.
 */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;
export const SLOW_CONSUMER_GRACE_MS = 2000;
/** Past this, a client is cut off at once: the grace period must not let one reader hold unbounded memory. */
export const SLOW_CONSUMER_HARD_BYTES = 4 * SLOW_CONSUMER_BYTES;
/** A paced send (a replay) waits for the client to read once this much is queued. */
export const PACED_HIGH_WATER = 1024 * 1024;
export const PACED_LOW_WATER = 256 * 1024;

/**
 * Turns of the event loop that wrote anything, for Session.write. A turn ends on process.nextTick,
 * as socket-batch.ts ends its corking: after the code and the promise continuations that produced
 * the frames, before any I/O, so a client cannot have read anything of the turn's frames yet.
 */
let turn = 0;
let turnOpen = false;

function currentTurn(): number {
  if (!turnOpen) {
    turnOpen = true;
    process.nextTick(endTurn);
  }
  return turn;
}

function endTurn(): void {
  turn++;
  turnOpen = false;
}

/** Counts frames written (prom-client's Counter fits). */
export interface FrameCounter {
  inc(value?: number): void;
}

const NO_HISTORY: ReadonlyMap<string, number> = new Map();

/** A fresh reconnect token: 256 random bits, base64url (RECONNECT_TOKEN_PATTERN). */
export function newReconnectToken(): string {
  return randomBytes(32).toString('base64url');
}

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
 * One connected client as the hub sees it: its transport, nickname, and the frames held back
 * while it is sent a snapshot (all frames while connecting, one room's while joining it).
 * Only the hub (this folder) changes its state; services read it and send through it.
 * In anonymous mode a session is its own Member; in jwt mode it is one connection of a User.
 */
export class Session implements Member {
  nickname: string;
  /**
   * The key of the member this session belongs to: its own id in anonymous mode, its user's key in
   * jwt mode. A delivery's `except` is compared with it, once per recipient.
   */
  readonly key: number;
  /** Who signed in on this connection (AUTH_MODE=jwt); undefined for an anonymous one. */
  identity: Identity | undefined;
  /** An anonymous connection whose handshake presented ADMIN_TOKEN (in jwt mode the token gives an admin identity instead). */
  adminToken = false;
  /** Anonymous mode: the room messages this connection's reconnect-token lineage sent (what it may edit and delete). */
  authored = new Authored();
  /** When the client connected, epoch ms (a number, not a Date: 80 bytes less per connection). */
  readonly connectedAt = Date.now();
  private held: Held[] | null = [];
  private heldRooms: Map<string, RoomHold> | null = null;
  /** Per room, the last message id its latest snapshot had (see belowFloor); null when none is pending. */
  private floors: Map<string, number> | null = null;
  private ended = false;
  private liveSignal: { promise: Promise<void>; resolve: () => void } | null = null;
  private typing: Map<string, number> | null = null;
  /** Since when (epoch ms) the client has had more than SLOW_CONSUMER_BYTES unread; 0 when it has not. */
  private lagSince = 0;
  /** The turn whose backlog was last checked: the first write of a turn checks it, the others write. */
  private checkedTurn = -1;
  /** Bytes written to the transport, for telling whether a paced client reads at all. */
  private written = 0;
  /** A true private field: a logged or serialized session never shows the secret. */
  readonly #reconnectToken: string;

  constructor(
    /** Unique among this process's sessions. */
    readonly id: number,
    private readonly transport: Transport,
    nickname: string,
    readonly remoteAddress: string,
    private readonly frames: FrameCounter,
    reconnectToken = newReconnectToken(),
    /** jwt mode: the signed-in user this is a connection of. */
    readonly user: User | null = null,
  ) {
    this.nickname = nickname;
    this.#reconnectToken = reconnectToken;
    this.key = user === null ? id : user.key;
  }
  /** Whether this connection may moderate: ADMIN_TOKEN on the handshake, or a token with the role `admin` (as of its last `auth`). */
  isAdmin(): boolean {
    return this.adminToken || isAdmin(this.identity);
  }


  /** jwt mode: the user id of this connection's user. */
  get userId(): string | undefined {
    return this.user?.userId;
  }

  /** Sent in this connection's welcome only; a later connection presents it to keep the nickname. */
  get reconnectToken(): string {
    return this.#reconnectToken;
  }

  get isLive(): boolean {
    return this.held === null;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Whether frames still reach the client: not closed here, and its transport still open (a sendPaced() cut short leaves it false). */
  get isOpen(): boolean {
    return !this.ended && this.transport.isOpen;
  }

  /** The one typed way a frame reaches this client: replies, errors and snapshots. */
  send(frame: ServerFrame): void {
    this.write(encodeFrame(frame));
  }

  /**
   * Sends `frames` in order, waiting for the client to read whenever a megabyte is queued: a
   * replay of any size holds about a megabyte of the server's memory per client, and a client that
   * keeps reading is never cut off by it. Resolves once all are written, or the client is gone.
   */
  async sendPaced(frames: Iterable<ServerFrame>): Promise<void> {
    for (const frame of frames) {
      if (this.ended || !this.transport.isOpen) return;
      this.send(frame);
      if (this.transport.bufferedBytes > PACED_HIGH_WATER && !(await this.readDown())) return;
    }
  }

  /** Writes an encoded frame now, unless the client is gone or has stopped reading for too long. */
  write(data: Buffer): boolean {
    const transport = this.transport;
    if (!transport.isOpen) return false;
    const thisTurn = currentTurn();
    if (this.checkedTurn !== thisTurn) {
      this.checkedTurn = thisTurn;
      if (this.fallenBehind(transport.bufferedBytes)) {
        transport.terminate();
        return false;
      }
    }
    transport.write(data);
    this.written += data.length;
    this.frames.inc();
    return true;
  }

  close(code: number, reason: string, graceMs: number): Promise<void> {
    return this.transport.close(code, reason, graceMs);
  }

  /** `unread`: what is still queued at the start of a turn, all of it written in earlier turns. */
  private fallenBehind(unread: number): boolean {
    if (unread <= SLOW_CONSUMER_BYTES) {
      this.lagSince = 0;
      return false;
    }
    const now = Date.now();
    if (this.lagSince === 0) this.lagSince = now;
    return unread > SLOW_CONSUMER_HARD_BYTES || now - this.lagSince > SLOW_CONSUMER_GRACE_MS;
  }

  /**
   * Waits until the client has read what is queued down to PACED_LOW_WATER; false if the
   * connection went meanwhile. A client that takes nothing at all for SLOW_CONSUMER_GRACE_MS has
   * stopped reading: it is cut off, as write() cuts off one that falls too far behind.
   */
  private async readDown(): Promise<boolean> {
    const transport = this.transport;
    const drained = transport.drained(PACED_LOW_WATER).then(() => true);
    let taken = this.written - transport.bufferedBytes;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<false>((resolve) => (timer = setTimeout(resolve, SLOW_CONSUMER_GRACE_MS, false)));
      const done = await Promise.race([drained, waited]);
      clearTimeout(timer);
      if (this.ended || !transport.isOpen) return false;
      if (done) return true;
      const takenNow = this.written - transport.bufferedBytes;
      if (takenNow <= taken) {
        transport.terminate();
        return false;
      }
      taken = takenNow;
    }
  }

  // Everything below is the hub's: delivery state, holds and throttles.

  /** Last relayed typing indicator per room (epoch ms), for throttling; created on first use. */
  get typingAt(): Map<string, number> {
    return (this.typing ??= new Map());
  }

  forgetTyping(room: string): void {
    this.typing?.delete(room);
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

  /** Delivers an already-encoded broadcast frame, or holds it while this session (or its room) is not live yet. */
  deliver(data: Buffer, messageId: number, room: string | undefined): void {
    if (this.floors !== null && messageId !== 0 && room !== undefined && this.belowFloor(room, messageId)) return;
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
   * A room the pages had nothing of drops what the client had already, up to `had` (its `since`).
   * Only ids the pages really contained become floors (see belowFloor): after a restore that lost
   * messages, `since` may lie above ids the store hands out anew, which must reach the client.
   */
  goLive(lastHistoryIds: ReadonlyMap<string, number> = NO_HISTORY, had = 0): void {
    if (this.held === null) return;
    const held = this.held;
    this.held = null;
    this.flush(held, (room) => lastHistoryIds.get(room) ?? had);
    for (const [room, lastId] of lastHistoryIds) this.raiseFloor(room, lastId);
    this.signalLive();
  }

  /**
   * Holds one room's frames while a snapshot of it is read: for a `join` (not announced
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

  /**
   * Flushes a room hold, dropping messages up to `lastHistoryId`; `discard` drops everything held.
   * `floor`: the last id the snapshot really contained (a resume that replayed nothing passes its
   * `since` as `lastHistoryId` but 0 here; see goLive).
   */
  releaseRoom(room: string, lastHistoryId: number, discard = false, floor = lastHistoryId): void {
    const hold = this.heldRooms?.get(room);
    if (!hold) return;
    this.heldRooms!.delete(room);
    if (discard) return;
    this.flush(hold.frames, () => lastHistoryId);
    this.raiseFloor(room, floor);
  }

  /**
   * Whether a room message is one the snapshot that ended the room's hold already had. Through
   * Redis (cluster mode) a message's delivery can come back after a snapshot that includes it was
   * read; the first newer message ends the check, since later ones come in id order.
   */
  private belowFloor(room: string, messageId: number): boolean {
    const floor = this.floors!.get(room);
    if (floor === undefined) return false;
    if (messageId <= floor) return true;
    this.floors!.delete(room);
    if (this.floors!.size === 0) this.floors = null;
    return false;
  }

  private raiseFloor(room: string, lastHistoryId: number): void {
    if (lastHistoryId > 0) (this.floors ??= new Map()).set(room, lastHistoryId);
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

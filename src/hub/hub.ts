import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import {
  DEFAULT_ROOM,
  encodeFrame,
  MAX_LISTED_USERS,
  REPLACED_CLOSE,
  type DirectFrame,
  type PresenceFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { BROKER, type Audience, type Broker, type Delivery } from './broker';
import { DIRECT_HOLD } from './direct-hold';
import { NicknameRegistry } from './nickname-registry';
import { pageOf } from './page';
import { RoomMembers } from './room-members';
import { RoomPresence } from './room-presence';
import { Session } from './session';
import type { Transport } from './transport';

/** At most one typing indicator is relayed per user and room in this window; extras are dropped. */
export const TYPING_THROTTLE_MS = 2000;

/** How long a replaced connection is given to answer its close before it is dropped. */
export const REPLACED_CLOSE_GRACE_MS = 3000;

export interface HubSettings {
  /** Rooms with more members than this get their joins and leaves as one presence_diff per interval. */
  presenceBatchThreshold: number;
  presenceBatchMs: number;
  /** How long a closed connection's nickname is held for its reconnect token; 0: not at all. */
  nickHoldMs: number;
}

export const HUB_SETTINGS = Symbol('HubSettings');

/** What a join or resume reads while the room's live frames are held: sent, then the held frames above lastId. */
export interface Snapshot {
  frames: ServerFrame[];
  lastId: number;
}

export interface OnlineUser {
  nickname: string;
  connectedAt: string;
}

/**
 * The one owner of sessions, nicknames, room membership, presence and local delivery
 * (centrifuge's Hub, socket.io's in-memory adapter). Deliveries go out through the broker and
 * come back to `receive`, so another node's frames reach local sessions the same way.
 */
@Injectable()
export class Hub implements OnModuleDestroy {
  private nextId = 1;
  private readonly byId = new Map<number, Session>();
  private readonly nicknames: NicknameRegistry;
  private readonly members = new RoomMembers();
  private readonly presences: RoomPresence;
  /** Set during shutdown: departures are no longer announced. */
  private quiet = false;

  constructor(
    @Inject(BROKER) private readonly broker: Broker,
    private readonly metrics: ChatMetrics,
    @Inject(HUB_SETTINGS) private readonly settings: HubSettings,
  ) {
    this.nicknames = new NicknameRegistry(settings.nickHoldMs);
    this.presences = new RoomPresence(this.members, settings.presenceBatchThreshold, settings.presenceBatchMs, (room, frame, except) =>
      this.publish({ kind: 'room', room }, frame, except),
    );
    broker.subscribe((delivery) => this.receive(delivery));
  }

  onModuleDestroy(): void {
    this.presences.stop();
    this.nicknames.stop();
  }

  get size(): number {
    return this.byId.size;
  }

  sessions(): IterableIterator<Session> {
    return this.byId.values();
  }

  // ---- connections

  /**
   * A new connection, under the nickname its reconnect token holds (the token is used up), else
   * under a fresh Guest name; every frame to it is held until goLive(). If the token's connection
   * is still online (a dead peer the heartbeat has not caught yet), that connection is ended here,
   * its rooms told it left, and closed with 4002. The name passes from the hold or the old
   * connection to the new one within this call, so nobody else can take it in between.
   * A signed-in connection (`identity`, jwt mode) is named by its claims instead: no token, no
   * guest name, and a name it may share with others.
   */
  open(transport: Transport, remoteAddress: string, reconnectToken?: string, identity?: Identity): Session {
    const reclaimed = reconnectToken === undefined || identity ? undefined : this.nicknames.redeem(reconnectToken);
    if (reclaimed?.replaced) this.replace(reclaimed.replaced);
    const nickname = identity?.nickname ?? reclaimed?.nickname ?? this.nicknames.nextGuestName();
    const session = new Session(this.nextId++, transport, nickname, remoteAddress, this.metrics.framesDelivered);
    session.identity = identity;
    this.nicknames.register(session, identity === undefined);
    this.byId.set(session.id, session);
    this.metrics.connectedClients.inc();
    return session;
  }

  /** Puts a connecting session in its rooms; their joins are announced by goLive(). */
  enter(session: Session, rooms: readonly string[]): void {
    for (const room of rooms) this.members.add(session, room);
  }

  welcome(session: Session): WelcomeFrame {
    return {
      type: 'welcome',
      nickname: session.nickname,
      message: `Welcome, ${session.nickname}`,
      users: this.nicknames.listed(),
      usersTotal: this.nicknames.size,
      room: DEFAULT_ROOM,
      rooms: [...this.members.roomsOf(session)],
      reconnectToken: session.reconnectToken,
    };
  }

  /** Ends the connect sequence: announces the session in its rooms, then flushes what was held for it. */
  goLive(session: Session, lastIds?: ReadonlyMap<string, number>): void {
    if (session.isClosed) return;
    for (const room of this.members.roomsOf(session)) this.presences.joined(session, room);
    session.goLive(lastIds);
  }

  /**
   * The connection is gone: it leaves every room (announced, unless it never was) and its
   * nickname is held for its reconnect token (free at once without a hold time).
   */
  close(session: Session): void {
    this.end(session, true);
  }

  /** Nicknames held for a reconnect now. */
  get heldNicknames(): number {
    return this.nicknames.heldCount;
  }

  /** A signed-in session's renewed token (an `auth` event): same user, later expiry, current roles. */
  renewIdentity(session: Session, identity: Identity): void {
    if (session.identity?.userId !== identity.userId) throw new Error('an identity is renewed for its own user only');
    session.identity = { ...session.identity, roles: identity.roles, expiresAt: identity.expiresAt };
  }

  /** A connection whose token a new one presented: gone for the hub now, and told so with 4002. */
  private replace(old: Session): void {
    this.end(old, false);
    void old.close(REPLACED_CLOSE.code, REPLACED_CLOSE.reason, REPLACED_CLOSE_GRACE_MS);
  }

  private end(session: Session, holdNickname: boolean): void {
    if (!this.byId.delete(session.id)) return;
    const wasLive = session.isLive;
    const rooms = [...this.members.roomsOf(session)];
    const announced = rooms.filter((room) => wasLive && !session.isJoining(room));
    session.markClosed();
    for (const room of rooms) this.members.remove(session, room);
    // A shutting-down server holds nothing: holds live in memory and would end with the process.
    // A signed-in name is never held: it comes back with the next token, not with a reconnect token.
    this.nicknames.release(session, holdNickname && !this.quiet && session.identity === undefined);
    this.metrics.connectedClients.dec();
    if (this.quiet) return;
    for (const room of announced) this.presences.left(session, room);
  }

  /** From now on, departures are not announced (the server is shutting down). */
  quieten(): void {
    this.quiet = true;
    this.presences.stop();
  }

  // ---- nicknames

  /** Renames the session and tells everyone; a rename to the same name is confirmed to the sender only. */
  rename(session: Session, nickname: string): void {
    if (session.isClosed) return; // a replaced connection's frames can still arrive while it closes
    const previous = this.nicknames.rename(session, nickname);
    if (previous !== session.nickname) this.presences.renamed(previous, session.nickname);
    const frame = { type: 'nick_update', nickname: session.nickname, previous, message: `${previous} is now known as ${session.nickname}` } as const;
    if (previous === session.nickname) session.send(frame);
    else this.toAll(frame);
  }

  findUser(nickname: string): Session | undefined {
    return this.nicknames.find(nickname);
  }

  /** Online users in connection order, `limit` from `offset`, and how many there are. */
  onlineUsers(offset = 0, limit = MAX_LISTED_USERS): { users: OnlineUser[]; total: number } {
    return { users: this.nicknames.page(offset, limit).map(onlineUser), total: this.nicknames.size };
  }

  // ---- rooms

  roomsOf(session: Session): ReadonlySet<string> {
    return this.members.roomsOf(session);
  }

  assertMember(session: Session, room: string): void {
    if (!this.members.has(session, room)) {
      throw new ChatException(ErrorCode.NOT_IN_ROOM, `You are not in room "${room}"; join it first`);
    }
  }

  /** Member count of every room that has members. */
  roomCounts(): Map<string, number> {
    return this.members.counts();
  }

  /** A room's members in join order, `limit` from `offset`, and how many there are. */
  roomUsers(room: string, offset = 0, limit = MAX_LISTED_USERS): { users: OnlineUser[]; total: number } {
    const members = this.members.of(room);
    return { users: pageOf(members, offset, limit).map(onlineUser), total: members.size };
  }

  presence(room: string, offset = 0, limit = MAX_LISTED_USERS): PresenceFrame {
    return this.presences.page(room, offset, limit);
  }

  /**
   * Joins a live session to `room`: holds the room's frames while `read` fetches its snapshot,
   * sends the snapshot and the presence, announces the join, then releases what was held. Joining
   * a room twice does nothing. If `read` fails the session is not in the room.
   */
  async join(session: Session, room: string, read: () => Promise<Snapshot>): Promise<void> {
    if (session.isClosed || !this.members.add(session, room)) return;
    session.holdRoom(room);
    let snapshot: Snapshot;
    try {
      snapshot = await read();
    } catch (error) {
      if (session.isJoining(room)) {
        session.releaseRoom(room, 0, true);
        this.members.remove(session, room);
      }
      throw error;
    }
    if (!session.isJoining(room)) return; // left, or disconnected, meanwhile
    for (const frame of snapshot.frames) session.send(frame);
    session.send(this.presence(room));
    this.presences.joined(session, room);
    session.releaseRoom(room, snapshot.lastId);
  }

  /**
   * The `resume` event on a live session: joins the rooms it is not in, holds the frames of all of
   * them while `replay` sends what was missed, then announces the new joins and releases the rest.
   * Rooms already being joined or resumed are left to that operation.
   */
  async resume(session: Session, rooms: readonly string[], replay: (rooms: string[]) => Promise<ReadonlyMap<string, number>>, since: number): Promise<void> {
    if (session.isClosed) return;
    const wanted = [...new Set(rooms)];
    const held = wanted.filter((room) => !session.isHeld(room));
    const joined = held.filter((room) => this.members.add(session, room));
    for (const room of held) session.holdRoom(room, !joined.includes(room));
    let lastIds: ReadonlyMap<string, number>;
    try {
      lastIds = await replay(wanted);
    } catch (error) {
      for (const room of joined) {
        session.releaseRoom(room, 0, true);
        this.members.remove(session, room);
      }
      for (const room of held) session.releaseRoom(room, 0);
      throw error;
    }
    if (session.isClosed) return;
    // A room left meanwhile is no longer held: nothing to announce or release for it.
    for (const room of joined) if (session.isJoining(room)) this.presences.joined(session, room);
    for (const room of held) session.releaseRoom(room, lastIds.get(room) ?? since);
  }

  /** The others in the room are told; the leaver stops receiving its frames. Leaving a room you are not in does nothing. */
  leave(session: Session, room: string): void {
    // The connect-time joins are announced only once the session goes live.
    const announced = session.isLive && !session.isJoining(room);
    if (!this.members.remove(session, room)) return;
    session.forgetTyping(room);
    session.releaseRoom(room, 0, true); // drop anything held for the room: the leaver gets none of it
    if (announced) this.presences.left(session, room);
  }

  typing(session: Session, room: string): void {
    this.assertMember(session, room);
    const now = Date.now();
    if (now - (session.typingAt.get(room) ?? -Infinity) < TYPING_THROTTLE_MS) return;
    session.typingAt.set(room, now);
    this.publish({ kind: 'room', room }, { type: 'typing', room, nickname: session.nickname }, session.id);
  }

  // ---- delivery

  /** To the members of `room`, on every node. */
  toRoom(room: string, frame: ServerFrame): void {
    this.publish({ kind: 'room', room }, frame);
  }

  /** To every connection of these users (direct messages), each once. */
  toUsers(nicknames: readonly string[], frame: ServerFrame): void {
    this.publish({ kind: 'users', nicknames }, frame);
  }

  /**
   * jwt mode: to every connection of these users (direct messages), each once; with its id, so
   * that a connection reading direct messages (DIRECT_HOLD) drops what it has read.
   */
  toUserIds(userIds: readonly string[], frame: DirectFrame): void {
    this.broker.publish({ audience: { kind: 'userIds', userIds }, data: encodeFrame(frame), messageId: frame.id, except: 0 });
  }

  /** To every connected client (nickname changes). */
  toAll(frame: ServerFrame): void {
    this.publish({ kind: 'everyone' }, frame);
  }

  /** Encodes once per broadcast; returns the encoded frame for the origin to reuse. */
  private publish(audience: Audience, frame: ServerFrame, except = 0): Buffer {
    const data = encodeFrame(frame);
    this.broker.publish({ audience, data, messageId: frame.type === 'message' ? frame.id : 0, except });
    return data;
  }

  /** A delivery from any node: the per-recipient work is the hold check and the socket write. */
  private receive({ audience, data, messageId, except }: Delivery): void {
    switch (audience.kind) {
      case 'room':
        for (const session of this.members.of(audience.room)) {
          if (session.id !== except) session.deliver(data, messageId, audience.room);
        }
        return;
      case 'users': {
        const recipients = new Set(audience.nicknames.map((nickname) => this.nicknames.find(nickname)));
        for (const session of recipients) if (session && session.id !== except) session.deliver(data, 0, undefined);
        return;
      }
      case 'userIds':
        this.deliverToUserIds(audience.userIds, data, messageId);
        return;
      case 'everyone':
        for (const session of this.byId.values()) if (session.id !== except) session.deliver(data, 0, undefined);
        return;
    }
  }

  // ---- direct messages that wait for their recipient (jwt mode)

  /** Connections that were not sent all the DMs that waited for them (the store failed): never caught up. */
  private readonly directBehind = new WeakSet<Session>();

  /**
   * Every connection of these users, held under DIRECT_HOLD while direct messages are read for it.
   * A scan of the sessions: the user index of issue 12's hub (one user, many connections) makes it
   * a lookup.
   */
  private deliverToUserIds(userIds: readonly string[], data: Buffer, messageId: number): void {
    const wanted = new Set(userIds);
    for (const session of this.byId.values()) {
      if (session.identity && wanted.has(session.identity.userId)) session.deliver(data, messageId, DIRECT_HOLD);
    }
  }

  /**
   * Whether a direct message to this user reaches it live now: some connection of it is past its
   * connect sequence and not reading direct messages (a resume). Such a connection has been sent
   * every earlier one, so the user's delivery cursor may move to the new one.
   */
  receivesDirectLive(userId: string): boolean {
    for (const session of this.byId.values()) {
      if (session.identity?.userId === userId && session.isLive && !session.isHeld(DIRECT_HOLD) && !this.directBehind.has(session)) return true;
    }
    return false;
  }

  /** The DMs that waited for this connection could not all be sent: it never counts for receivesDirectLive. */
  markDirectBehind(session: Session): void {
    this.directBehind.add(session);
  }

  /** Holds the session's `direct` frames while a resume replays direct messages; false if they are held already (or it is gone). */
  holdDirect(session: Session): boolean {
    if (session.isClosed || session.isHeld(DIRECT_HOLD)) return false;
    session.holdRoom(DIRECT_HOLD, true);
    return true;
  }

  /** Releases what holdDirect() held, minus the direct messages with ids up to `lastId` (the replay had them). */
  releaseDirect(session: Session, lastId: number): void {
    session.releaseRoom(DIRECT_HOLD, lastId);
  }
}

function onlineUser(session: Session): OnlineUser {
  return { nickname: session.nickname, connectedAt: new Date(session.connectedAt).toISOString() };
}

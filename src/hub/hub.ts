import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import {
  DEFAULT_ROOM,
  encodeFrame,
  MAX_LISTED_USERS,
  notification,
  REPLACED_CLOSE,
  type DirectFrame,
  type MessageDeletedFrame,
  type MessageEditedFrame,
  type PresenceFrame,
  type RoomVisibility,
  type ServerFrame,
  type TypingFrame,
  type WelcomeFrame,
} from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { BROKER, type Audience, type Broker, type Delivery } from './broker';
import { DIRECT_HOLD } from './direct-hold';
import { NicknameRegistry } from './nickname-registry';
import { pageOf } from './page';
import { PrivateRooms, type PrivateRoomChange, type PrivateRoomInfo, type RoomMember } from './private-rooms';
import { RoomMembers } from './room-members';
import { RoomPresence } from './room-presence';
import { RemoteMembers, type ClusterLink, type NicknameClaims, type RemoteMember, type RemoteMemberInfo } from './remote-members';
import { nicknameKeys } from '../protocol/nickname';
import { Session } from './session';
import type { Transport } from './transport';
import type { Member, User } from './user';
import { UserDirectory } from './user-directory';
import { forbidden, UserMemberships, type Snapshot } from './user-memberships';

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
  /** AUTH_MODE=jwt: the connections of one signed-in user are one user. Default: anonymous. */
  identified?: boolean;
}

export const HUB_SETTINGS = Symbol('HubSettings');

export type { Snapshot } from './user-memberships';

export interface OnlineUser {
  nickname: string;
  connectedAt: string;
  /** jwt mode. */
  userId?: string;
}

/**
 * The one owner of sessions, nicknames, users, room membership, presence and local delivery
 * (centrifuge's Hub, socket.io's in-memory adapter). Deliveries go out through the broker and
 * come back to `receive`, so another node's frames reach local sessions the same way.
 *
 * Two maps of rooms: `members`, the sessions that get a room's frames (the fan-out reads only
 * this), and `roster`, who is present (the same map in anonymous mode, where a connection is a
 * user; users in jwt mode, where every connection of a user is in all of the user's rooms).
 */
@Injectable()
export class Hub implements OnModuleDestroy {
  private nextId = 1;
  private readonly byId = new Map<number, Session>();
  private readonly nicknames: NicknameRegistry;
  private readonly users = new UserDirectory();
  private readonly members: RoomMembers;
  private readonly roster: RoomMembers<Member>;
  /** Cluster mode: the other nodes' members, as their state events describe them. */
  readonly remote = new RemoteMembers();
  /** Cluster mode: tells the other nodes about this one's members. */
  private link: ClusterLink | null = null;
  /** Cluster mode: chosen nicknames claimed cluster-wide (anonymous mode). */
  private claims: NicknameClaims | null = null;
  /** This node's id in the claims' owners (ClusterBus.instanceId). */
  private node = 'local';
  private readonly presences: RoomPresence;
  private readonly privateRooms = new PrivateRooms();
  private readonly memberships: UserMemberships;
  private readonly identified: boolean;
  /** Connections that were not sent all the DMs that waited for them (the store failed): never caught up. */
  private readonly directBehind = new WeakSet<Session>();
  /** Set during shutdown: departures are no longer announced. */
  private quiet = false;

  constructor(
    @Inject(BROKER) private readonly broker: Broker,
    private readonly metrics: ChatMetrics,
    @Inject(HUB_SETTINGS) private readonly settings: HubSettings,
  ) {
    this.identified = settings.identified ?? false;
    this.nicknames = new NicknameRegistry(settings.nickHoldMs, (key) => this.remote.holdsKey(key));
    const watch = { added: (member: Member, room: string) => this.link?.joined(member, room), removed: (member: Member, room: string) => this.link?.left(member, room) };
    this.members = new RoomMembers<Session>(this.identified ? undefined : watch);
    this.roster = this.identified ? new RoomMembers<User>(watch) : this.members;
    const publish = (room: string, frame: ServerFrame, except?: Member) => this.publish({ kind: 'room', room }, frame, except);
    // The threshold's count stays O(1) per join and leave; the merged set is built for pages and diffs only.
    const present = { of: (room: string) => this.present(room), size: (room: string) => this.roster.of(room).size + this.remote.rooms.of(room).size };
    this.presences = new RoomPresence(present, settings.presenceBatchThreshold, settings.presenceBatchMs, publish, this.identified);
    const { members, roster, presences, privateRooms, users } = this;
    const elsewhere = (userId: string, room: string) => this.remote.userIn(userId, room);
    const userLeft = (userId: string, room: string) => this.link?.userLeft(userId, room);
    this.memberships = new UserMemberships({ members, roster, presences, privateRooms, users, quiet: () => this.quiet, elsewhere, userLeft });
    privateRooms.watch = (change) => this.link?.privateRoom(change);
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
   * A new connection; every frame to it is held until goLive(). Signed in (jwt mode, `identity`):
   * a connection of the user with that id, which is online from its first connection to its last.
   * Anonymous: under the nickname its reconnect token holds (the token is used up), else under a
   * fresh Guest name. If the token's connection is still online (a dead peer the heartbeat has not
   * caught yet), that connection is ended here, its rooms told it left, and closed with 4002. The
   * name passes from the hold or the old connection to the new one within this call, so nobody
   * else can take it in between. (An identity in a hub not set up for it only names the connection.)
   */
  open(transport: Transport, remoteAddress: string, reconnectToken?: string, identity?: Identity, adminToken = false): Session {
    if (identity !== undefined && this.identified) {
      const known = this.users.get(identity.userId) !== undefined;
      const user = this.memberships.userOf(identity, () => this.nextId++);
      if (!known) this.link?.opened(user);
      const session = new Session(this.nextId++, transport, user.nickname, remoteAddress, this.metrics.framesDelivered, undefined, user);
      session.identity = identity;
      user.sessions.add(session);
      return this.opened(session);
    }
    const reclaimed = reconnectToken === undefined || identity ? undefined : this.nicknames.redeem(reconnectToken);
    if (reclaimed?.replaced) this.replace(reclaimed.replaced);
    const nickname = identity?.nickname ?? reclaimed?.nickname ?? this.nicknames.nextGuestName();
    const session = new Session(this.nextId++, transport, nickname, remoteAddress, this.metrics.framesDelivered);
    session.identity = identity;
    session.adminToken = adminToken;
    if (reclaimed) session.authored = reclaimed.authored;
    this.nicknames.register(session, identity === undefined);
    this.link?.opened(session);
    return this.opened(session);
  }

  private opened(session: Session): Session {
    this.byId.set(session.id, session);
    this.metrics.connectedClients.inc();
    return session;
  }

  /** jwt mode: whether the session's user has no rooms in memory yet (its first connection): loadRooms() first. */
  needsRooms(session: Session): boolean {
    return session.user?.rooms === null;
  }

  /** jwt mode: the user's rooms as the store lists them, read at its user's first connection (see UserMemberships.load). */
  loadRooms(session: Session, stored: readonly string[]): void {
    if (session.user) this.memberships.load(session.user, stored);
  }

  /**
   * Puts a connecting session in its rooms; their joins are announced by goLive(). In jwt mode
   * those are all of its user's rooms, whatever `rooms` says.
   */
  enter(session: Session, rooms: readonly string[]): void {
    const user = session.user;
    if (!user) {
      for (const room of rooms) this.members.add(session, room);
      return;
    }
    this.memberships.enter(session, user);
  }

  welcome(session: Session): WelcomeFrame {
    const user = session.user;
    const rooms = [...this.members.roomsOf(session)];
    const message = `Welcome, ${session.nickname}`;
    if (this.remote.size > 0) return this.clusterWelcome(session, rooms, message);
    if (!user) {
      const users = this.nicknames.listed();
      const total = this.nicknames.size;
      return { type: 'welcome', nickname: session.nickname, message, users, usersTotal: total, room: DEFAULT_ROOM, rooms, reconnectToken: session.reconnectToken };
    }
    const { names, ids } = this.users.listed();
    const { userId, roles } = user;
    return { type: 'welcome', nickname: user.nickname, userId, roles, message, users: names, userIds: ids, usersTotal: this.users.size, room: DEFAULT_ROOM, rooms };
  }

  /**
   * The welcome of cluster mode: the online list of every node, this node's first. Costs the
   * listed names and a pass over the other nodes' users (jwt mode, to count each user once).
   */
  private clusterWelcome(session: Session, rooms: string[], message: string): WelcomeFrame {
    const user = session.user;
    if (!user) {
      const users = [...this.nicknames.listed()];
      for (const member of this.remote.all()) {
        if (users.length >= MAX_LISTED_USERS) break;
        users.push(member.nickname);
      }
      const usersTotal = this.nicknames.size + this.remote.size;
      return { type: 'welcome', nickname: session.nickname, message, users, usersTotal, room: DEFAULT_ROOM, rooms, reconnectToken: session.reconnectToken };
    }
    const listed = this.users.listed();
    const users = [...listed.names];
    const userIds = [...listed.ids];
    let usersTotal = this.users.size;
    const counted = new Set<string>();
    for (const member of this.remote.all()) {
      const id = member.userId!;
      if (this.users.get(id) || counted.has(id)) continue;
      counted.add(id);
      usersTotal++;
      if (users.length >= MAX_LISTED_USERS) continue;
      users.push(member.nickname);
      userIds.push(id);
    }
    const { userId, roles } = user;
    return { type: 'welcome', nickname: user.nickname, userId, roles, message, users, userIds, usersTotal, room: DEFAULT_ROOM, rooms };
  }

  /** Ends the connect sequence: announces the session in its rooms, then flushes what was held for it. */
  goLive(session: Session, lastIds?: ReadonlyMap<string, number>, had = 0): void {
    if (session.isClosed) return;
    const user = session.user;
    for (const room of this.members.roomsOf(session)) {
      if (user) this.memberships.arrive(user, room, [session]);
      else this.presences.joined(session, room, [session]);
    }
    session.goLive(lastIds, had);
  }

  /**
   * The connection is gone: it leaves every room (announced, unless it never was) and its
   * nickname is held for its reconnect token (free at once without a hold time). In jwt mode the
   * rooms are told only when the user's last connection goes.
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
    if (session.user) session.user.roles = identity.roles;
  }

  /** A connection whose token a new one presented: gone for the hub now, and told so with 4002. */
  private replace(old: Session): void {
    this.end(old, false);
    void old.close(REPLACED_CLOSE.code, REPLACED_CLOSE.reason, REPLACED_CLOSE_GRACE_MS);
  }

  private end(session: Session, holdNickname: boolean): void {
    if (!this.byId.delete(session.id)) return;
    if (session.user) {
      session.markClosed();
      this.memberships.end(session, session.user);
      if (session.user.sessions.size === 0) this.link?.closed(session.user);
      this.metrics.connectedClients.dec();
      return;
    }
    const wasLive = session.isLive;
    const rooms = [...this.members.roomsOf(session)];
    const announced = rooms.filter((room) => wasLive && !session.isJoining(room));
    session.markClosed();
    for (const room of rooms) this.members.remove(session, room);
    // A shutting-down server holds nothing: holds live in memory and would end with the process.
    // A signed-in name is never held: it comes back with the next token, not with a reconnect token.
    this.nicknames.release(session, holdNickname && !this.quiet && session.identity === undefined);
    this.claims?.release(nicknameKeys(session.nickname), this.owner(session));
    this.link?.closed(session);
    this.metrics.connectedClients.dec();
    if (this.quiet) return;
    for (const room of announced) this.presences.left(session, room);
  }

  /** From now on, departures are not announced (the server is shutting down). */
  quieten(): void {
    this.quiet = true;
    this.link?.leaving();
    this.link = null;
    this.presences.stop();
  }

  // ---- nicknames and users

  /** Renames the session and tells everyone; a rename to the same name is confirmed to the sender only. */
  rename(session: Session, nickname: string): void {
    if (session.isClosed) return; // a replaced connection's frames can still arrive while it closes
    if (session.user) throw new ChatException(ErrorCode.FORBIDDEN, 'Your nickname comes from your sign-in; it cannot be changed here');
    const previous = this.nicknames.rename(session, nickname);
    if (previous !== session.nickname) {
      this.presences.renamed(previous, session.nickname);
      this.link?.renamed(session);
    }
    const frame = { type: 'nick_update', nickname: session.nickname, previous, message: `${previous} is now known as ${session.nickname}` } as const;
    if (previous === session.nickname) session.send(frame);
    else this.toAll(frame);
  }

  /**
   * rename() for cluster mode: the name is claimed in Redis first (all its keys or none), so a
   * rename to the same name on another node at the same moment fails with the same NICK_TAKEN.
   * On one node (no claims) it is rename() itself, synchronous.
   */
  renameClaimed(session: Session, nickname: string): Promise<void> | undefined {
    const claims = this.claims;
    if (!claims || session.user || session.isClosed || nicknameKeys(nickname).join() === nicknameKeys(session.nickname).join()) {
      this.rename(session, nickname);
      return undefined;
    }
    this.nicknames.assertFree(nickname, session);
    const owner = this.owner(session);
    const keys = nicknameKeys(nickname);
    return claims.claim(keys, owner).then((won) => {
      if (!won) throw new ChatException(ErrorCode.NICK_TAKEN, `Nickname "${nickname}" is already taken`);
      const previous = session.nickname;
      try {
        this.rename(session, nickname);
      } catch (error) {
        claims.release(keys, owner);
        throw error;
      }
      if (session.isClosed) claims.release(keys, owner);
      claims.release(nicknameKeys(previous).filter((key) => !keys.includes(key)), owner);
    });
  }

  private owner(session: Session): string {
    return `${this.node}/${session.id}`;
  }

  /** Anonymous mode: the online connection with this nickname. */
  findUser(nickname: string): Session | undefined {
    return this.nicknames.find(nickname);
  }

  /** jwt mode: the online user `ref` names, by id, else by nickname (VALIDATION when several share it). */
  findOnline(ref: string): User | undefined {
    return this.users.find(ref);
  }

  /** Online users (connections in anonymous mode) in the order they came, `limit` from `offset`, and how many there are. */
  onlineUsers(offset = 0, limit = MAX_LISTED_USERS): { users: OnlineUser[]; total: number } {
    if (this.remote.size > 0) {
      const online = this.everyone();
      return { users: pageOf(online, offset, limit).map(onlineUser), total: online.size };
    }
    if (this.identified) return { users: this.users.page(offset, limit).map(onlineUser), total: this.users.size };
    return { users: this.nicknames.page(offset, limit).map(onlineUser), total: this.nicknames.size };
  }

  /** jwt mode: whether the user has a connection here. */
  isOnline(userId: string): boolean {
    return this.users.get(userId) !== undefined || this.remote.hasUser(userId);
  }

  /** Anonymous mode: whoever is online under this nickname, here or (cluster mode) on another node. */
  findNickname(nickname: string): Member | undefined {
    return this.nicknames.find(nickname) ?? this.remote.find(nickname);
  }

  /** AUTH_MODE=jwt: frames and lists name users, with their ids. */
  get isIdentified(): boolean {
    return this.identified;
  }

  /** jwt mode: the rooms of a user who is online (in memory), or undefined. */
  roomsOfUser(userId: string): string[] | undefined {
    const rooms = this.users.get(userId)?.rooms;
    return rooms ? [...rooms] : undefined;
  }

  // ---- rooms

  roomsOf(session: Session): ReadonlySet<string> {
    return this.members.roomsOf(session);
  }

  /** For `message`, `history` and `typing`: NOT_IN_ROOM, or FORBIDDEN for a private room the sender may not enter. */
  assertMember(session: Session, room: string): void {
    if (this.members.has(session, room)) return;
    if (!this.privateRooms.mayJoin(room, session.userId)) throw forbidden(room);
    throw new ChatException(ErrorCode.NOT_IN_ROOM, `You are not in room "${room}"; join it first`);
  }

  /** For `who`: a public room, or a private one the user (undefined: anonymous) is a member of; else FORBIDDEN. */
  assertMayRead(userId: string | undefined, room: string): void {
    if (!this.privateRooms.mayRead(room, userId)) throw forbidden(room);
  }

  /** Whether the user (undefined: anonymous) may read the room: public, or private and a member. For REST. */
  mayRead(room: string, userId: string | undefined): boolean {
    return this.privateRooms.mayRead(room, userId);
  }

  /** Anonymous mode: `session` sent the room message `id` (its lineage may edit and delete it); a signed-in sender is known by its user id. */
  authored(session: Session, id: number): void {
    if (!session.user) session.authored.add(id);
  }

  /** Whether this connection gets the frames of `room` (an edit's sender not in it is sent the frame itself). */
  receivesRoom(session: Session, room: string): boolean {
    return this.members.has(session, room);
  }

  isPrivate(room: string): boolean {
    return this.privateRooms.has(room);
  }

  /** Member count (users present in jwt mode) of every room that has members. */
  roomCounts(): Map<string, number> {
    const counts = this.roster.counts();
    if (this.remote.size === 0) return counts;
    for (const room of this.remote.rooms.counts().keys()) counts.set(room, this.present(room).size);
    return counts;
  }

  /** A room's members in join order, `limit` from `offset`, and how many there are. */
  roomUsers(room: string, offset = 0, limit = MAX_LISTED_USERS): { users: OnlineUser[]; total: number } {
    const members = this.present(room);
    return { users: pageOf(members, offset, limit).map(onlineUser), total: members.size };
  }

  presence(room: string, offset = 0, limit = MAX_LISTED_USERS): PresenceFrame {
    return this.presences.page(room, offset, limit);
  }

  /**
   * Joins a live session to `room`: holds the room's frames while `read` fetches its snapshot,
   * sends the snapshot and the presence, announces the join, then releases what was held. Joining
   * a room twice does nothing. If `read` fails the session is not in the room. In jwt mode the
   * user joins: every live connection of it gets the snapshot, the room is told once.
   */
  async join(session: Session, room: string, read: () => Promise<Snapshot>): Promise<void> {
    const user = session.user;
    if (user) {
      const had = user.rooms?.has(room) ?? true;
      await this.memberships.join(user, room, read, session);
      if (!had && user.rooms?.has(room)) this.link?.userJoined(user.userId, room);
      return;
    }
    if (!this.privateRooms.mayJoin(room, undefined)) throw forbidden(room);
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
    this.presences.joined(session, room, [session]);
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
    this.assertResumable(session, wanted);
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
    for (const room of joined) if (session.isJoining(room)) this.presences.joined(session, room, [session]);
    for (const room of held) session.releaseRoom(room, lastIds.get(room) ?? since, false, lastIds.get(room) ?? 0);
  }

  /**
   * Whether a resume (event or URL) may replay `rooms`: FORBIDDEN for a private room the sender may
   * not enter; in jwt mode, where a resume replays and never joins (membership is the user's, and
   * a resume must not undo a leave made on another device), NOT_IN_ROOM for a room not the user's.
   */
  assertResumable(session: Session, rooms: readonly string[]): void {
    for (const room of rooms) {
      if (!this.privateRooms.mayJoin(room, session.userId)) throw forbidden(room);
    }
    if (session.user) this.memberships.assertResumable(session.user, rooms);
  }

  /**
   * The others in the room are told; the leaver stops receiving its frames. Leaving a room you are
   * not in does nothing. In jwt mode the user leaves: all its connections, and its other
   * connections get the leave notification so that every device shows it.
   */
  leave(session: Session, room: string): void {
    if (session.user) return this.memberships.leave(session, session.user, room);
    // The connect-time joins are announced only once the session goes live.
    const announced = session.isLive && !session.isJoining(room);
    if (!this.members.remove(session, room)) return;
    session.forgetTyping(room);
    session.releaseRoom(room, 0, true); // drop anything held for the room: the leaver gets none of it
    if (announced) this.presences.left(session, room);
  }

  typing(session: Session, room: string): void {
    this.assertMember(session, room);
    const member: Member = session.user ?? session;
    const now = Date.now();
    if (now - (member.typingAt.get(room) ?? -Infinity) < TYPING_THROTTLE_MS) return;
    member.typingAt.set(room, now);
    const frame: TypingFrame = { type: 'typing', room, nickname: member.nickname };
    if (member.userId !== undefined) frame.userId = member.userId;
    this.publish({ kind: 'room', room }, frame, member);
  }

  // ---- private rooms (jwt mode)

  /** The private rooms as stored, with their owners and members: at startup. */
  loadPrivateRooms(rooms: Iterable<PrivateRoomInfo>): void {
    this.privateRooms.load(rooms);
  }

  /** `create_room`, before the store is asked (see UserMemberships.claim); returns the undo for a refusal. */
  claimRoom(session: Session, room: string, visibility: RoomVisibility): () => void {
    return this.memberships.claim(session, room, visibility);
  }

  /** `invite` and `remove`: FORBIDDEN unless the sender owns the private room or is an admin. */
  assertManages(session: Session, room: string): User {
    return this.memberships.assertManages(session, room);
  }

  isMember(room: string, userId: string): boolean {
    return this.privateRooms.isMember(room, userId);
  }

  /** The member of the private room `ref` names, by id, else by nickname (VALIDATION when several members share it). */
  findMember(room: string, ref: string): RoomMember | undefined {
    return this.privateRooms.findMember(room, ref);
  }

  /** The store has made `target` a member: its connections get `invited` and join the room. */
  invite(by: Session, room: string, target: RoomMember, read: () => Promise<Snapshot>): Promise<void> {
    const invited = this.memberships.invite(by, room, target, read); // registers the member first, at once
    this.link?.userJoined(target.userId, room, { nickname: by.nickname, userId: by.userId! });
    return invited;
  }

  /**
   * jwt mode: the user joined `room` on another node (or was invited there by `by`): its
   * connections here join it too, with the snapshot `read` gives (the other node stored it).
   */
  joinedElsewhere(userId: string, room: string, read: () => Promise<Snapshot>, by?: { nickname: string; userId: string }): Promise<void> {
    return this.memberships.joinedElsewhere(userId, room, read, by);
  }

  /** Takes `target` out of the private room at once (before the store is written); false if it was no member. */
  remove(by: Session, room: string, target: RoomMember): boolean {
    return this.memberships.remove(by, room, target);
  }

  // ---- the other nodes (cluster mode)

  /** Cluster mode: guest numbers that no other node hands out (see NicknameRegistry.guestNumbers). */
  useGuestNumbers(source: () => number | undefined): void {
    this.nicknames.guestNumbers = source;
  }

  /** Cluster mode: chosen nicknames are claimed through `claims` (renameClaimed); `node` is this node's id. */
  useNicknameClaims(claims: NicknameClaims, node: string): void {
    this.claims = claims;
    this.node = node;
  }

  /** From now on, this node's members' comings and goings are told to `link` (ClusterPresence). */
  attach(link: ClusterLink): void {
    this.link = link;
  }

  /** Another node changed the private rooms' registry. */
  applyPrivateRoom(change: PrivateRoomChange): void {
    this.privateRooms.apply(change);
  }

  /** jwt mode: the user left `room` on another node: gone from it on every node's mirror, and its connections here leave it. */
  evict(userId: string, room: string): void {
    this.remote.userLeftRoom(userId, room);
    this.memberships.evict(userId, room);
  }

  /** This node's members as the other nodes mirror them: sessions (anonymous) or users (jwt), with their rooms. */
  localMembers(): RemoteMemberInfo[] {
    const members: Member[] = this.identified ? this.users.page(0, Infinity) : this.nicknames.page(0, Infinity);
    return members.map((member) => {
      const info: RemoteMemberInfo = { key: member.key, nickname: member.nickname, connectedAt: member.connectedAt, rooms: [...this.roster.roomsOf(member)] };
      if (member.userId !== undefined) info.userId = member.userId;
      return info;
    });
  }

  /**
   * A node is gone without saying goodbye (its heartbeat expired): the rooms of its members are
   * told they left, as its own hub would have told them. This node won the right to announce it
   * (one node does, cluster-wide); `dropped` is what it mirrored of the dead node, already forgotten.
   * A signed-in user still present here or on another node has not left.
   */
  announceGone(dropped: ReadonlyArray<{ member: RemoteMember; rooms: readonly string[] }>): void {
    for (const { member, rooms } of dropped) {
      for (const room of rooms) {
        if (member.userId !== undefined && this.userPresent(member.userId, room)) continue;
        this.publish({ kind: 'room', room }, notification('leave', room, member.nickname, member.userId));
      }
    }
  }

  /** jwt mode: whether the user is in `room` here or on another node. */
  private userPresent(userId: string, room: string): boolean {
    const user = this.users.get(userId);
    return (user !== undefined && this.roster.has(user, room)) || this.remote.userIn(userId, room);
  }

  /** Who is present in `room`, on every node: this node's first; a user on several nodes once. */
  private present(room: string): ReadonlySet<Member> {
    const local = this.roster.of(room);
    const remote = this.remote.rooms.of(room);
    if (remote.size === 0) return local;
    const merged = new Set<Member>(local);
    const userIds = new Set<string>();
    if (this.identified) for (const member of local) userIds.add(member.userId!);
    for (const member of remote) {
      if (member.userId !== undefined) {
        if (userIds.has(member.userId)) continue;
        userIds.add(member.userId);
      }
      merged.add(member);
    }
    return merged;
  }

  /** Everyone online, on every node: this node's first; a user on several nodes once. */
  private everyone(): ReadonlySet<Member> {
    const local: Member[] = this.identified ? this.users.page(0, Infinity) : this.nicknames.page(0, Infinity);
    const merged = new Set<Member>(local);
    const userIds = new Set(local.map((member) => member.userId));
    for (const member of this.remote.all()) {
      if (member.userId !== undefined) {
        if (userIds.has(member.userId)) continue;
        userIds.add(member.userId);
      }
      merged.add(member);
    }
    return merged;
  }

  // ---- delivery

  /** To the members of `room`, on every node. */
  toRoom(room: string, frame: ServerFrame): void {
    this.publish({ kind: 'room', room }, frame);
  }

  /** Anonymous mode: to the connections with these nicknames (direct messages), each once. */
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

  /**
   * jwt mode: a direct message's edit or deletion to every connection of its two users. Never held
   * back as a replayed id (messageId 0): a connection reading DMs gets it after them.
   */
  toUserIdsChange(userIds: readonly string[], frame: MessageEditedFrame | MessageDeletedFrame): void {
    this.broker.publish({ audience: { kind: 'userIds', userIds }, data: encodeFrame(frame), messageId: 0, except: 0 });
  }

  /** To every connected client (nickname changes). */
  toAll(frame: ServerFrame): void {
    this.publish({ kind: 'everyone' }, frame);
  }

  /** Encodes once per broadcast; returns the encoded frame for the origin to reuse. */
  private publish(audience: Audience, frame: ServerFrame, except?: Member): Buffer {
    const data = encodeFrame(frame);
    const delivery: Delivery = { audience, data, messageId: frame.type === 'message' ? frame.id : 0, except: except?.key ?? 0 };
    if (except?.userId !== undefined) delivery.exceptUser = except.userId;
    this.broker.publish(delivery);
    return data;
  }

  /** A delivery from any node: the per-recipient work is the hold check and the socket write. */
  private receive({ audience, data, messageId, except, exceptUser }: Delivery): void {
    switch (audience.kind) {
      case 'room':
        for (const session of this.members.of(audience.room)) {
          // exceptUser: another node's typist or joiner (its key means nothing here); jwt mode only.
          if (session.key !== except && (exceptUser === undefined || session.userId !== exceptUser)) session.deliver(data, messageId, audience.room);
        }
        return;
      case 'users': {
        const recipients = new Set(audience.nicknames.map((nickname) => this.nicknames.find(nickname)));
        for (const session of recipients) if (session && session.key !== except) session.deliver(data, 0, undefined);
        return;
      }
      case 'userIds':
        for (const userId of new Set(audience.userIds)) {
          const user = this.users.get(userId);
          // Held under DIRECT_HOLD while DMs are read for the session (its connect, a resume).
          if (user) for (const session of user.sessions) session.deliver(data, messageId, DIRECT_HOLD);
        }
        return;
      case 'everyone':
        for (const session of this.byId.values()) if (session.key !== except) session.deliver(data, 0, undefined);
        return;
    }
  }

  // ---- direct messages that wait for their recipient (jwt mode)

  /**
   * Whether a direct message to this user reaches it live now: some connection of it is past its
   * connect sequence and not reading direct messages (a resume). Such a connection has been sent
   * every earlier one, so the user's delivery cursor may move to the new one.
   */
  receivesDirectLive(userId: string): boolean {
    // Cluster mode: a user online on another node is sent it live there (its connect sequence, if
    // it is in one, holds direct frames and drops what it read: DIRECT_HOLD).
    if (this.remote.hasUser(userId)) return true;
    for (const session of this.users.get(userId)?.sessions ?? []) {
      if (session.isLive && !session.isHeld(DIRECT_HOLD) && !this.directBehind.has(session)) return true;
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
  releaseDirect(session: Session, lastId: number, floor = lastId): void {
    session.releaseRoom(DIRECT_HOLD, lastId, false, floor);
  }
}

function onlineUser(member: Member): OnlineUser {
  const user: OnlineUser = { nickname: member.nickname, connectedAt: new Date(member.connectedAt).toISOString() };
  if (member.userId !== undefined) user.userId = member.userId;
  return user;
}

import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { encodeFrame, MAX_LISTED_USERS, notification, type RoomVisibility, type ServerFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import type { PrivateRooms, RoomMember } from './private-rooms';
import type { RoomMembers } from './room-members';
import type { RoomPresence } from './room-presence';
import type { Session } from './session';
import { User, type Member } from './user';
import type { UserDirectory } from './user-directory';

/** What a join or resume reads while the room's live frames are held: sent, then the held frames above lastId. */
export interface Snapshot {
  frames: ServerFrame[];
  lastId: number;
}

/** The parts of the hub the user model works on (the hub owns them; this is its jwt-mode half). */
export interface HubState {
  /** Sessions per room: who gets a room's frames. */
  members: RoomMembers<Session>;
  /** Users per room: who is present. */
  roster: RoomMembers<Member>;
  presences: RoomPresence;
  privateRooms: PrivateRooms;
  users: UserDirectory;
  /** True while the server shuts down: departures are not announced. */
  quiet(): boolean;
  /**
   * Cluster mode: whether the user is present in the room on another node. Then its arrival here
   * is no news to the room, and its going from here is not a leave: the room hears of a user once,
   * cluster-wide.
   */
  elsewhere(userId: string, room: string): boolean;
  /** The user left `room` on purpose: cluster mode tells the other nodes, whose connections of it leave too. */
  userLeft(userId: string, room: string): void;
}

/**
 * The hub's user model (jwt mode): all connections of one signed-in user are one user. Membership
 * is the user's: every connection is in all of the user's rooms, a join or leave on one applies to
 * all, and a room hears of the user when its first connection arrives and its last one goes.
 * Private rooms are entered by members only; their owner or an admin invites and removes.
 */
export class UserMemberships {
  constructor(private readonly hub: HubState) {}

  /** The online user of `identity`, or a new one (`key` numbers it among sessions and users). */
  userOf({ userId, nickname, roles }: Identity, key: () => number): User {
    let user = this.hub.users.get(userId);
    if (user) {
      user.roles = roles;
      return user;
    }
    this.hub.users.add((user = new User(key(), userId, nickname, roles)));
    this.hub.privateRooms.renamed(userId, nickname);
    return user;
  }

  /**
   * The user's rooms as the store lists them, read at its first connection. Private rooms follow
   * the in-memory registry instead, which already has what an invite or a remove changed while
   * the store was read. A user whose rooms are in memory keeps them.
   */
  load(user: User, stored: readonly string[]): void {
    if (user.rooms) return;
    const rooms = new Set(stored.filter((room) => this.hub.privateRooms.mayRead(room, user.userId)));
    for (const room of this.hub.privateRooms.roomsOf(user.userId)) rooms.add(room);
    user.rooms = rooms;
  }

  /** A connecting session enters all of its user's rooms; goLive() announces them. */
  enter(session: Session, user: User): void {
    for (const room of user.rooms ?? []) this.subscribe(session, user, room);
  }

  /** The user's connections are in `room` now: the room is told if it did not have the user yet. */
  arrive(user: User, room: string, joiners: readonly Session[]): void {
    const announce = !user.announced.has(room) && !this.hub.elsewhere(user.userId, room);
    user.announced.add(room);
    this.hub.presences.joined(user, room, joiners, announce);
  }

  /** A connection of the user is gone; with its last, the user leaves its rooms (each told, unless quiet). */
  end(session: Session, user: User): void {
    const { members, roster } = this.hub;
    for (const room of [...members.roomsOf(session)]) members.remove(session, room);
    user.sessions.delete(session);
    if (user.sessions.size > 0) return;
    this.hub.users.remove(user);
    for (const room of [...roster.roomsOf(user)]) roster.remove(user, room);
    if (this.hub.quiet()) return;
    for (const room of user.announced) if (!this.hub.elsewhere(user.userId, room)) this.hub.presences.left(user, room);
  }

  /**
   * The user joins `room` (its `join`, an invitation, its own new room): every connection is
   * subscribed at once; the live ones hold the room's frames while `read` runs, then get the
   * snapshot, the presence and the join notification. Connections still connecting get the room's
   * frames after their own connect sequence. An owner who left its private room may come back.
   * If `read` fails, nobody is in the room.
   */
  async join(user: User, room: string, read: () => Promise<Snapshot>, requester?: Session): Promise<void> {
    if (requester?.isClosed || !user.rooms || user.rooms.has(room)) return;
    const { privateRooms } = this.hub;
    if (!privateRooms.mayJoin(room, user.userId)) throw forbidden(room);
    const rejoining = privateRooms.has(room) && !privateRooms.isMember(room, user.userId);
    if (rejoining) privateRooms.add(room, user.userId, user.nickname);
    user.rooms.add(room);
    const joiners: Session[] = [];
    for (const session of user.sessions) {
      this.subscribe(session, user, room);
      if (!session.isLive) continue;
      session.holdRoom(room);
      joiners.push(session);
    }
    if (joiners.length === 0) return;
    let snapshot: Snapshot;
    try {
      snapshot = await read();
    } catch (error) {
      if (joiners.some((session) => session.isJoining(room))) {
        this.drop(user, room);
        if (rejoining) privateRooms.remove(room, user.userId);
      }
      throw error;
    }
    const live = joiners.filter((session) => session.isJoining(room)); // not left or disconnected meanwhile
    if (live.length === 0) return;
    const presence = this.hub.presences.page(room, 0, MAX_LISTED_USERS);
    for (const session of live) {
      for (const frame of snapshot.frames) session.send(frame);
      session.send(presence);
    }
    this.arrive(user, room, live);
    for (const session of live) session.releaseRoom(room, snapshot.lastId);
  }

  /**
   * The user leaves `room` from `session`: all its connections do. Its other connections get the
   * leave notification, so that every device shows it; the room is told as for any leave.
   */
  leave(session: Session, user: User, room: string): void {
    if (!user.rooms?.has(room)) return;
    const announced = this.drop(user, room);
    this.hub.privateRooms.remove(room, user.userId);
    this.hub.userLeft(user.userId, room);
    if (!announced) return;
    const frame = encodeFrame(notification('leave', room, user.nickname, user.userId));
    for (const other of user.sessions) if (other !== session) other.deliver(frame, 0, undefined);
  }

  /** A resume replays the user's rooms and joins none: NOT_IN_ROOM for a room not the user's. */
  assertResumable(user: User, rooms: readonly string[]): void {
    const missing = rooms.find((room) => !user.rooms?.has(room));
    if (missing !== undefined) throw new ChatException(ErrorCode.NOT_IN_ROOM, `You are not in room "${missing}"; join it first`);
  }

  /**
   * `create_room`: ROOM_EXISTS when someone is in the room now or it is private; a private room is
   * registered at once with its creator as its only member, so that nobody else gets in while the
   * store takes it. The returned undo forgets it again, for when the store refuses it.
   */
  claim(session: Session, room: string, visibility: RoomVisibility): () => void {
    const user = session.user;
    const { privateRooms } = this.hub;
    if (visibility === 'private' && !user) {
      throw new ChatException(ErrorCode.FORBIDDEN, 'Private rooms need signed-in users (AUTH_MODE=jwt): this server is anonymous');
    }
    if (this.hub.roster.of(room).size > 0 || privateRooms.has(room)) throw roomExists(room);
    if (visibility === 'public' || !user) return () => undefined;
    privateRooms.create(room, { userId: user.userId, nickname: user.nickname });
    return () => privateRooms.drop(room);
  }

  /** `invite` and `remove`: the sender must be signed in and own the private room, or be an admin; else FORBIDDEN. */
  assertManages(session: Session, room: string): User {
    const user = session.user;
    if (!user) throw new ChatException(ErrorCode.FORBIDDEN, 'Only signed-in users (AUTH_MODE=jwt) have private rooms to invite to');
    const { privateRooms } = this.hub;
    // One answer whether the room is public, unknown or someone else's: no way to probe for private rooms here.
    if (!privateRooms.has(room) || (privateRooms.ownerOf(room) !== user.userId && !user.isAdmin())) {
      throw new ChatException(ErrorCode.FORBIDDEN, `Only the owner of a private room "${room}" or an admin can invite to it or remove from it`);
    }
    return user;
  }

  /**
   * The store has made `target` a member of the private room: every connection of the user (if
   * online) gets `invited`, then joins the room as by a `join` of its own.
   */
  async invite(by: Session, room: string, target: RoomMember, read: () => Promise<Snapshot>): Promise<void> {
    this.hub.privateRooms.add(room, target.userId, target.nickname);
    const user = this.hub.users.get(target.userId);
    if (!user) return;
    const frame = encodeFrame({ type: 'invited', room, by: by.nickname, byId: by.userId! });
    for (const session of user.sessions) session.deliver(frame, 0, undefined);
    await this.join(user, room, read);
  }

  /**
   * Takes `target` out of the private room at once: its connections stop getting the room's frames
   * within this call, each gets `removed`, and the room is told it left. False if it was no member.
   */
  remove(by: Session, room: string, target: RoomMember): boolean {
    if (!this.hub.privateRooms.remove(room, target.userId)) return false;
    this.hub.userLeft(target.userId, room);
    const user = this.hub.users.get(target.userId);
    if (!user?.rooms?.has(room)) return true;
    this.drop(user, room);
    const frame = encodeFrame({ type: 'removed', room, by: by.nickname, byId: by.userId! });
    for (const session of user.sessions) session.deliver(frame, 0, undefined);
    return true;
  }

  /**
   * Cluster mode: the user left `room` on another node (a `leave` there, or a removal): its
   * connections here leave it too. The room is told here if this node had announced the user and
   * it is nowhere else now (the other node saw it here, so it did not).
   */
  evict(userId: string, room: string): void {
    const user = this.hub.users.get(userId);
    if (user?.rooms?.has(room)) this.drop(user, room);
  }

  /** Cluster mode: see Hub.joinedElsewhere. Announced here only if the room has not heard of the user (it has, from the other node). */
  async joinedElsewhere(userId: string, room: string, read: () => Promise<Snapshot>, by?: { nickname: string; userId: string }): Promise<void> {
    const user = this.hub.users.get(userId);
    if (!user?.rooms || user.rooms.has(room)) return;
    if (by) {
      const frame = encodeFrame({ type: 'invited', room, by: by.nickname, byId: by.userId });
      for (const session of user.sessions) session.deliver(frame, 0, undefined);
    }
    await this.join(user, room, read);
  }

  private subscribe(session: Session, user: User, room: string): void {
    this.hub.members.add(session, room);
    this.hub.roster.add(user, room);
  }

  /** Takes the user and all its connections out of `room` (held frames dropped); true if the room had been told it was there (and now is told it left). */
  private drop(user: User, room: string): boolean {
    user.rooms?.delete(room);
    for (const session of user.sessions) {
      this.hub.members.remove(session, room);
      session.releaseRoom(room, 0, true);
    }
    this.hub.roster.remove(user, room);
    user.forgetTyping(room);
    const announced = user.announced.delete(room);
    if (announced && !this.hub.quiet() && !this.hub.elsewhere(user.userId, room)) this.hub.presences.left(user, room);
    return announced;
  }
}

export function forbidden(room: string): ChatException {
  return new ChatException(ErrorCode.FORBIDDEN, `Room "${room}" is private: only its members can use it`);
}

function roomExists(room: string): ChatException {
  return new ChatException(ErrorCode.ROOM_EXISTS, `Room "${room}" exists already`);
}

import { nicknameKey, nicknameKeys } from '../protocol/nickname';
import { RoomMembers } from './room-members';
import type { PrivateRoomChange } from './private-rooms';
import type { Member } from './user';

/** A member of another node as that node describes it (cluster mode). */
export interface RemoteMemberInfo {
  /** Its key on its own node: a session's id (anonymous) or a user's key (jwt). */
  key: number;
  nickname: string;
  userId?: string;
  connectedAt: number;
  rooms: string[];
}

/**
 * A connection (anonymous mode) or user (jwt mode) present on another node. Never a recipient
 * here: its own node delivers to it. Its key is -1, which no local member has, so no delivery's
 * `except` ever names it.
 */
export class RemoteMember implements Member {
  readonly key = -1;
  readonly typingAt = new Map<string, number>();

  constructor(
    readonly node: string,
    readonly remoteKey: number,
    public nickname: string,
    readonly userId: string | undefined,
    readonly connectedAt: number,
  ) {}

  forgetTyping(): void {}
}

/**
 * The other nodes' members, mirrored from their state events on the ClusterBus (ClusterPresence),
 * so that the hub's synchronous reads (welcome lists, `who`, room counts, nickname clashes,
 * isOnline) see the whole cluster without a Redis round trip.
 */
export class RemoteMembers {
  private readonly nodes = new Map<string, Map<number, RemoteMember>>();
  readonly rooms = new RoomMembers<RemoteMember>();
  /** In the order they came online. */
  private readonly online = new Set<RemoteMember>();
  private readonly byKey = new Map<string, RemoteMember>();
  private readonly byUserId = new Map<string, Set<RemoteMember>>();

  get size(): number {
    return this.online.size;
  }

  /** Online in arrival order. */
  all(): ReadonlySet<RemoteMember> {
    return this.online;
  }

  opened(node: string, info: RemoteMemberInfo): void {
    this.closed(node, info.key);
    const member = new RemoteMember(node, info.key, info.nickname, info.userId, info.connectedAt);
    let members = this.nodes.get(node);
    if (!members) this.nodes.set(node, (members = new Map<number, RemoteMember>()));
    members.set(info.key, member);
    this.online.add(member);
    if (member.userId === undefined) this.claim(member);
    else {
      let same = this.byUserId.get(member.userId);
      if (!same) this.byUserId.set(member.userId, (same = new Set()));
      same.add(member);
    }
    for (const room of info.rooms) this.rooms.add(member, room);
  }

  renamed(node: string, key: number, nickname: string): void {
    const member = this.get(node, key);
    if (!member) return;
    this.unclaim(member);
    member.nickname = nickname;
    this.claim(member);
  }

  joined(node: string, key: number, room: string): void {
    const member = this.get(node, key);
    if (member) this.rooms.add(member, room);
  }

  left(node: string, key: number, room: string): void {
    const member = this.get(node, key);
    if (member) this.rooms.remove(member, room);
  }

  closed(node: string, key: number): RemoteMember | undefined {
    const member = this.get(node, key);
    if (!member) return undefined;
    this.nodes.get(node)!.delete(key);
    this.online.delete(member);
    for (const room of [...this.rooms.roomsOf(member)]) this.rooms.remove(member, room);
    if (member.userId === undefined) this.unclaim(member);
    else {
      const same = this.byUserId.get(member.userId);
      same?.delete(member);
      if (same?.size === 0) this.byUserId.delete(member.userId);
    }
    return member;
  }

  /** Forgets a node (gone, or about to send its state again); returns its members with the rooms they were in. */
  dropNode(node: string): Array<{ member: RemoteMember; rooms: string[] }> {
    const members = [...(this.nodes.get(node)?.values() ?? [])];
    const dropped = members.map((member) => ({ member, rooms: [...this.rooms.roomsOf(member)] }));
    for (const member of members) this.closed(node, member.remoteKey);
    this.nodes.delete(node);
    return dropped;
  }

  /** The nodes whose members are mirrored here. */
  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  /** Whether a remote connection (anonymous mode) holds one of these nickname keys. */
  holdsKey(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Anonymous mode: the remote connection with this nickname (compared as NicknameRegistry.find does). */
  find(nickname: string): RemoteMember | undefined {
    const member = this.byKey.get(nicknameKey(nickname));
    return member && nicknameKey(member.nickname) === nicknameKey(nickname) ? member : undefined;
  }

  hasUser(userId: string): boolean {
    return this.byUserId.has(userId);
  }

  /** jwt mode: whether the user is present in `room` on another node. */
  userIn(userId: string, room: string): boolean {
    for (const member of this.byUserId.get(userId) ?? []) if (this.rooms.has(member, room)) return true;
    return false;
  }

  /** jwt mode: the user is out of `room` on every node (it left on purpose, on one of them). */
  userLeftRoom(userId: string, room: string): void {
    for (const member of this.byUserId.get(userId) ?? []) this.rooms.remove(member, room);
  }

  private get(node: string, key: number): RemoteMember | undefined {
    return this.nodes.get(node)?.get(key);
  }

  private claim(member: RemoteMember): void {
    if (member.userId !== undefined) return;
    for (const key of nicknameKeys(member.nickname)) this.byKey.set(key, member);
  }

  private unclaim(member: RemoteMember): void {
    if (member.userId !== undefined) return;
    for (const key of nicknameKeys(member.nickname)) if (this.byKey.get(key) === member) this.byKey.delete(key);
  }
}

/**
 * What the hub tells the other nodes about its own members (cluster mode; ClusterPresence
 * publishes it on the ClusterBus). A member is a session in anonymous mode, a user in jwt mode.
 */
export interface ClusterLink {
  opened(member: Member): void;
  renamed(member: Member): void;
  closed(member: Member): void;
  joined(member: Member, room: string): void;
  left(member: Member, room: string): void;
  /** jwt mode: the user left `room` on purpose (a `leave`, a removal): its connections on every node leave it. */
  userLeft(userId: string, room: string): void;
  /**
   * jwt mode: the user joined `room` on purpose (its `join`; `by` names who invited it): its
   * connections on every node join it.
   */
  userJoined(userId: string, room: string, by?: { nickname: string; userId: string }): void;
  /** A change to the private rooms' registry. */
  privateRoom(change: PrivateRoomChange): void;
  /** The node is shutting down: its members go with it (told once; no close per member follows). */
  leaving(): void;
}

/**
 * Cluster mode, anonymous: chosen nicknames claimed in Redis, all keys of a name at once or none,
 * so that two nodes renaming to one name at the same moment cannot both succeed (the mirror alone
 * would let both through within its latency). `owner` names the session cluster-wide.
 */
export interface NicknameClaims {
  claim(keys: readonly string[], owner: string): Promise<boolean>;
  release(keys: readonly string[], owner: string): void;
}

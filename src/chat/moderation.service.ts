import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { CLUSTER_BUS, LocalClusterBus, type ClusterBus } from '../hub/cluster-bus';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { canonicalAddress } from '../protocol/address';
import type { AuditAction } from '../protocol/audit';
import { ChatException } from '../protocol/chat.exception';
import type { BanDto, KickDto, MuteDto, SlowModeDto, UnbanDto, UnmuteDto } from '../protocol/dto/moderation.dto';
import { ErrorCode } from '../protocol/error-code';
import { BANNED_CLOSE, KICKED_CLOSE, type ModerationFrame, type RoomSettingsFrame } from '../protocol/frames';
import { ADMIN_TOKEN_USER_ID, type Identity } from '../protocol/identity';
import { nicknameKey } from '../protocol/nickname';
import { AuditStore } from '../store/audit-store.service';
import type { BanKind } from '../store/ban.entity';
import { StoreUnavailableError } from '../store/message-store.service';
import { ModerationStore } from '../store/moderation-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { ModerationRelay, type ModerationMessage, type Reach } from './moderation-relay';
import { RefusalLog } from './refusal-log';
import { Sanctions, type Ban } from './sanctions';
import { SlowMode } from './slow-mode';

/** Who acts, as the audit log names them, and from where. */
export interface Actor {
  name: string;
  address: string | null;
}

/** A moderation result: the `moderation` frame without its type (the REST routes' body). */
export type ModerationResult = Omit<ModerationFrame, 'type'>;

/** A closed connection is given this long to answer the close before it is dropped. */
const CLOSE_GRACE_MS = 3000;

interface UserTarget {
  /** What a ban or mute is stored under: the user id (jwt mode), or the nickname's key (anonymous). */
  key: string;
  user: string;
  userId?: string;
}

/**
 * Moderation (issue 13): admins kick, ban, unban, mute and unmute; room owners and admins set slow
 * mode. Bans, mutes and slow mode are stored (ModerationStore) and kept in memory, so the handshake
 * (bannedHandshake) and every message (assertMaySend) check them without a database read. A
 * change applies here first, then is stored: one the store did not take is in force on this server
 * and reported UNAVAILABLE, so the admin sends it again (fail closed, as a private room's removal).
 */
@Injectable()
export class ModerationService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ModerationService.name);
  private sanctions = new Sanctions();
  private readonly slow = new SlowMode();
  /** The other nodes (cluster mode): every change is applied on each; a kick or ban asks what they closed. */
  private readonly relay: ModerationRelay;
  private readonly refusals = new RefusalLog();
  /** Connections closed by a kick or a ban: what they still send while closing is refused. */
  private readonly removed = new WeakSet<Session>();

  constructor(
    private readonly hub: Hub,
    private readonly store: ModerationStore,
    private readonly users: UserStore,
    private readonly directory: RoomDirectory,
    private readonly audit: AuditStore,
    private readonly metrics: ChatMetrics,
    @Optional() @Inject(CLUSTER_BUS) bus: ClusterBus | null = null,
  ) {
    this.relay = new ModerationRelay(bus ?? new LocalClusterBus(), (message) => this.applyRemote(message));
  }

  /** The bans, mutes and slow modes in force, before the server takes its first connection. */
  async onApplicationBootstrap(): Promise<void> {
    await this.load();
  }

  /**
   * Cluster mode, when Redis is back after an outage: the changes other nodes made meanwhile never
   * reached this one, but they are in the shared store. Takes the store's bans, mutes and slow
   * modes as they are now, and closes the local connections a ban made meanwhile names.
   */
  async reload(): Promise<void> {
    await this.load();
    const banned = [...this.hub.sessions()].filter((s) => !isTokenAdmin(s) && this.sessionBan(s) !== undefined);
    this.close(banned, BANNED_CLOSE);
    this.logger.log({ msg: 'sanctions reloaded from the store', bans: this.sanctions.banCount, closed: banned.length });
  }

  private async load(): Promise<void> {
    const { bans, mutes } = await this.store.active(new Date());
    const slowModes = await this.store.slowModes();
    const time = (iso: string | null) => (iso === null ? null : Date.parse(iso));
    const sanctions = new Sanctions();
    for (const ban of bans) sanctions.ban({ ...ban, until: time(ban.expiresAt), at: Date.parse(ban.createdAt) });
    for (const mute of mutes) sanctions.mute({ ...mute, until: time(mute.expiresAt), at: Date.parse(mute.createdAt) });
    this.sanctions = sanctions;
    // Rooms keep who sent when (SlowMode.set), so a reload frees nobody early.
    this.slow.keepOnly(new Set(slowModes.map((s) => s.room)));
    for (const { room, seconds, ownerId } of slowModes) this.slow.set(room, seconds, ownerId);
  }

  private sessionBan(session: Session): Ban | undefined {
    return (session.userId === undefined ? undefined : this.sanctions.banOf('user', session.userId)) ?? this.sanctions.banOf('address', canonicalAddress(session.remoteAddress));
  }

  // ---- checks: the handshake and the message path

  /**
   * The ban that refuses a handshake from `address` (of user `userId`, jwt mode), if any. ADMIN_TOKEN
   * is never refused: the operator can always get in, and lift a ban. Each refusal is counted; its
   * audit row is written at most once a minute per ban and address (RefusalLog).
   */
  bannedHandshake(address: string, userId: string | undefined, adminToken: boolean): Ban | undefined {
    if (this.sanctions.banCount === 0 || adminToken || userId === ADMIN_TOKEN_USER_ID) return undefined;
    const ban = (userId === undefined ? undefined : this.sanctions.banOf('user', userId)) ?? this.sanctions.banOf('address', canonicalAddress(address));
    if (!ban) return undefined;
    this.metrics.banRefusals.inc({ kind: ban.kind });
    if (this.refusals.shouldAudit(`${ban.kind}\n${ban.target}\n${address}`)) {
      this.audit.note({ actor: userId ?? null, action: 'ban_refused', target: ban.target, address });
    }
    return ban;
  }

  /** On every room message, after the membership check: MUTED, then SLOW_MODE (admins and the room's owner are not held to it). */
  assertMaySend(session: Session, room: string): void {
    if (this.removed.has(session)) throw new ChatException(ErrorCode.FORBIDDEN, 'This connection is being closed by a moderator');
    if (this.sanctions.hasMutes(room)) {
      const mute = this.sanctions.muteOf(room, session.userId ?? nicknameKey(session.nickname));
      if (mute) {
        const until = mute.until === null ? null : new Date(mute.until).toISOString();
        throw withDetails(new ChatException(ErrorCode.MUTED, `You are muted in "${room}" ${until === null ? 'until a moderator unmutes you' : `until ${until}`}`), { until });
      }
    }
    if (!this.slow.has(room) || session.isAdmin() || (session.userId !== undefined && this.slow.ownerOf(room) === session.userId)) return;
    const retryAfterMs = this.slow.take(room, session.userId ?? session.id);
    if (retryAfterMs > 0) {
      const message = `"${room}" is in slow mode: one message every ${this.slow.secondsOf(room)} s; wait ${Math.ceil(retryAfterMs / 1000)} s`;
      throw withDetails(new ChatException(ErrorCode.SLOW_MODE, message), { retryAfterMs });
    }
    // A user's interval runs on every node (an anonymous sender is one connection, on this node only).
    if (this.relay.clustered && session.userId !== undefined) this.relay.publish({ op: 'slow_sent', room, sender: session.userId, at: Date.now() });
  }

  // ---- admin actions (REST routes are admin-only by the auth hook; the socket asks asAdmin first)

  /** The socket's check: the connection's actor when it is an admin's, else FORBIDDEN. */
  asAdmin(session: Session, event: string): Actor {
    if (!session.isAdmin()) throw new ChatException(ErrorCode.FORBIDDEN, `Only admins can ${event}`);
    return actorOf(session);
  }

  /** Closes every connection of an online user (a nickname's one connection in anonymous mode) with 4003 `kicked`. */
  async kick(actor: Actor, { user, reason }: KickDto): Promise<ModerationResult> {
    const sessions = this.localSessions(user);
    this.close(sessions, KICKED_CLOSE);
    // Cluster mode: every node closes the user's connections it holds, and says how many.
    const reach = [reachOf(sessions), ...(await this.relay.ask({ op: 'kick', ref: user }))].filter((r) => r.closed > 0);
    if (reach.length === 0) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${user}" is online`);
    const { user: nickname, userId } = reach[0];
    const result: ModerationResult = { action: 'kick', user: nickname, ...(userId === undefined ? {} : { userId }), closed: sum(reach) };
    await this.record(actor, 'kick', { target: userId ?? nickname!, reason });
    return result;
  }

  /**
   * Bans a user (jwt mode: by id or name, anyone who ever signed in) or an address, for `seconds` or
   * until unbanned, and closes its connections with 4003 `banned`. In anonymous mode a user is only
   * a nickname anyone can take, so banning one bans the address its connection comes from.
   */
  async ban(actor: Actor, dto: BanDto): Promise<ModerationResult> {
    const result: ModerationResult = { action: 'ban' };
    let named = await this.banTarget(dto, result);
    if (!named) {
      // Anonymous mode: a nickname is banned by the address its connection comes from (on any node).
      const found = await this.findNickname(dto.user!);
      named = ['address', found.address!];
      Object.assign(result, { user: found.user, address: named[1] });
    }
    const [kind, target] = named;
    const now = Date.now();
    const until = dto.seconds === undefined ? null : now + dto.seconds * 1000;
    const ban: Ban = { kind, target, until, reason: dto.reason ?? null, actor: actor.name, at: now };
    const closed = this.applyBan(ban).closed + sum(await this.relay.ask({ op: 'ban', ban }));
    Object.assign(result, { until: iso(until), closed });
    await this.stored(() => this.store.putBan({ kind, target, expiresAt: iso(until), reason: ban.reason, actor: actor.name, createdAt: iso(now)! }), 'The ban');
    await this.record(actor, 'ban', { target, reason: dto.reason });
    return result;
  }

  /**
   * The ban a `ban` or `unban` names: an address, or a user (jwt mode), filling in `result`'s
   * address or user; undefined for a user in anonymous mode, which each event treats its own way.
   */
  private async banTarget(dto: { address?: string | null; user?: string | null }, result: ModerationResult): Promise<[BanKind, string] | undefined> {
    if (dto.address != null) {
      const target = canonicalAddress(dto.address);
      result.address = target;
      return ['address', target];
    }
    if (!this.hub.isIdentified) return undefined;
    const found = await this.findUser(dto.user!);
    Object.assign(result, { user: found.user, userId: found.userId });
    return ['user', found.key];
  }

  /** Lifts a ban of a user (jwt mode) or an address; `lifted` false when there was none. */
  async unban(actor: Actor, dto: UnbanDto): Promise<ModerationResult> {
    const result: ModerationResult = { action: 'unban' };
    const named = await this.banTarget(dto, result);
    if (!named) throw new ChatException(ErrorCode.VALIDATION, 'In anonymous mode bans are by address: give the address (GET /api/admin/bans lists them)');
    const [kind, target] = named;
    const inMemory = this.sanctions.unban(kind, target) !== undefined;
    this.relay.publish({ op: 'unban', kind, target });
    const inStore = await this.stored(() => this.store.removeBan(kind, target), 'The unban');
    result.lifted = inMemory || inStore;
    await this.record(actor, 'unban', { target });
    return result;
  }

  /** Mutes a user in a room: its `message`s there get MUTED until the end. Other rooms are not affected. */
  async mute(actor: Actor, { room, user, seconds, reason }: MuteDto): Promise<ModerationResult> {
    const found = await this.userTarget(user);
    const now = Date.now();
    const until = seconds === undefined ? null : now + seconds * 1000;
    const mute = { room, target: found.key, until, reason: reason ?? null, actor: actor.name, at: now };
    this.sanctions.mute(mute);
    this.relay.publish({ op: 'mute', mute });
    const stored = { room, target: found.key, expiresAt: iso(until), reason: reason ?? null, actor: actor.name, createdAt: iso(now)! };
    await this.stored(() => this.store.putMute(stored), 'The mute');
    await this.record(actor, 'mute', { target: found.key, room, reason });
    return { action: 'mute', room, user: found.user, ...(found.userId === undefined ? {} : { userId: found.userId }), until: iso(until) };
  }

  async unmute(actor: Actor, { room, user }: UnmuteDto): Promise<ModerationResult> {
    const found = await this.userTarget(user);
    const inMemory = this.sanctions.unmute(room, found.key) !== undefined;
    this.relay.publish({ op: 'unmute', room, target: found.key });
    const inStore = await this.stored(() => this.store.removeMute(room, found.key), 'The unmute');
    await this.record(actor, 'unmute', { target: found.key, room });
    return { action: 'unmute', room, user: found.user, ...(found.userId === undefined ? {} : { userId: found.userId }), lifted: inMemory || inStore };
  }

  /** The bans and mutes in force, oldest first (GET /api/admin/bans, /api/admin/mutes). */
  activeBans(): Ban[] {
    return this.sanctions.listBans();
  }

  activeMutes(): ReturnType<Sanctions['listMutes']> {
    return this.sanctions.listMutes();
  }

  // ---- slow mode: the room's owner or an admin

  /**
   * `slow_mode`: one message per user per `seconds` in the room (0: off). The room hears
   * `room_settings`; so does the sender when not in the room. FORBIDDEN for anyone but an admin and
   * the user who created the room (jwt mode: anonymous rooms have no owner).
   */
  async setSlowMode(session: Session, { room, seconds }: SlowModeDto): Promise<void> {
    let ownerId: string | null;
    try {
      ownerId = (await this.directory.roomInfo(room))?.ownerId ?? null;
    } catch (error) {
      throw StoreUnavailableError.from(error);
    }
    if (!session.isAdmin() && (session.userId === undefined || ownerId !== session.userId)) {
      throw new ChatException(ErrorCode.FORBIDDEN, `Only the owner of "${room}" or an admin can set its slow mode`);
    }
    this.slow.set(room, seconds, ownerId);
    this.relay.publish({ op: 'slow_mode', room, seconds, ownerId });
    const frame: RoomSettingsFrame = { type: 'room_settings', room, slowModeSeconds: seconds, by: session.nickname };
    if (session.userId !== undefined) frame.byId = session.userId;
    this.hub.toRoom(room, frame);
    if (!this.hub.roomsOf(session).has(room)) session.send(frame);
    await this.stored(() => this.store.setSlowMode(room, seconds), 'Slow mode');
    await this.record(actorOf(session), 'slow_mode', { target: String(seconds), room });
  }

  // ----

  /** The connections of this node `ref` names: every connection of a user (jwt mode), a nickname's one (anonymous). */
  private localSessions(ref: string): Session[] {
    if (this.hub.isIdentified) {
      const user = this.hub.findOnline(ref);
      return user ? [...user.sessions] : [];
    }
    const session = this.hub.findUser(ref);
    return session ? [session] : [];
  }

  /** Anonymous mode: the connection holding a nickname, on this node or (cluster mode) another; NO_SUCH_USER when none does. */
  private async findNickname(ref: string): Promise<Reach> {
    const local = this.localSessions(ref);
    const found = local.length > 0 ? reachOf(local) : (await this.relay.ask({ op: 'find', ref })).find((r) => r.closed > 0);
    if (!found) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${ref}" is online`);
    return found;
  }

  /** Puts a ban in force here and closes this node's connections it names. */
  private applyBan(ban: Ban): Reach {
    this.sanctions.ban(ban);
    const { kind, target } = ban;
    const banned = [...this.hub.sessions()].filter((s) => !isTokenAdmin(s) && (kind === 'user' ? s.userId === target : canonicalAddress(s.remoteAddress) === target));
    this.close(banned, BANNED_CLOSE);
    return { closed: banned.length };
  }

  /** A change made on another node (cluster mode), applied here; a kick, ban or find is answered with what this node holds. */
  private applyRemote(message: Exclude<ModerationMessage, { op: 'reach' }>): Reach | undefined {
    switch (message.op) {
      case 'ban':
        return this.applyBan(message.ban);
      case 'unban':
        this.sanctions.unban(message.kind, message.target);
        return undefined;
      case 'mute':
        this.sanctions.mute(message.mute);
        return undefined;
      case 'unmute':
        this.sanctions.unmute(message.room, message.target);
        return undefined;
      case 'slow_mode':
        this.slow.set(message.room, message.seconds, message.ownerId);
        return undefined;
      case 'slow_sent':
        this.slow.record(message.room, message.sender, message.at);
        return undefined;
      case 'kick': {
        const sessions = this.localSessions(message.ref);
        this.close(sessions, KICKED_CLOSE);
        return reachOf(sessions);
      }
      case 'find':
        return reachOf(this.localSessions(message.ref));
    }
  }

  /** A mute's user: anyone who ever signed in (jwt mode), or any nickname (anonymous mode, online or not). */
  private userTarget(ref: string): Promise<UserTarget> {
    if (this.hub.isIdentified) return this.findUser(ref);
    return Promise.resolve({ key: nicknameKey(ref), user: ref });
  }

  private async findUser(ref: string): Promise<UserTarget> {
    let found;
    try {
      found = await this.users.findUsers(ref);
    } catch (error) {
      throw StoreUnavailableError.from(error);
    }
    if (found.length === 0) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${ref}" has ever signed in`);
    if (found.length > 1) throw new ChatException(ErrorCode.VALIDATION, `Several users are named "${ref}"; use the user id`);
    return { key: found[0].id, user: found[0].nickname, userId: found[0].id };
  }

  private close(sessions: readonly Session[], { code, reason }: { code: number; reason: string }): void {
    for (const session of sessions) {
      this.removed.add(session);
      void session.close(code, reason, CLOSE_GRACE_MS);
    }
  }

  /** Writes a change already in force here; UNAVAILABLE (still in force here) when the store did not take it. */
  private async stored<T>(write: () => Promise<T>, what: string): Promise<T> {
    try {
      return await write();
    } catch (error) {
      throw new ChatException(ErrorCode.UNAVAILABLE, `${what} is in force on this server, but the store did not record it; send it again`, { cause: error });
    }
  }

  /** The action's audit row (written before the reply goes out) and its count. */
  private async record(actor: Actor, action: AuditAction, entry: { target: string; room?: string; reason?: string }): Promise<void> {
    this.metrics.moderationActions.inc({ action });
    await this.audit
      .record({ actor: actor.name, action, address: actor.address, target: entry.target, room: entry.room ?? null, reason: entry.reason ?? null })
      .catch((error: unknown) => this.logger.warn({ msg: 'audit row not written', action, err: error }));
  }
}

/** A connection as the audit log names actors: its user id (jwt mode), `admin` for ADMIN_TOKEN (anonymous), else its nickname. */
export function actorOf(session: Session): Actor {
  return { name: session.userId ?? (session.adminToken ? 'admin' : session.nickname), address: session.remoteAddress };
}

/** A REST caller (an admin, by the auth hook): its user id in jwt mode (`@admin` for ADMIN_TOKEN), `admin` in anonymous mode. */
export function actorOfIdentity(identity: Identity | undefined, identified: boolean, address: string | null): Actor {
  return { name: identity === undefined ? 'unknown' : identified ? identity.userId : identity.nickname, address };
}

/** ADMIN_TOKEN's connections: no ban closes or refuses them. */
function isTokenAdmin(session: Session): boolean {
  return session.adminToken || session.userId === ADMIN_TOKEN_USER_ID;
}

/** What a node holds of a target: its connections' count, the user's name and id, the first one's address. */
function reachOf(sessions: readonly Session[]): Reach {
  const first = sessions[0] as Session | undefined;
  if (first === undefined) return { closed: 0 };
  return { closed: sessions.length, user: first.nickname, ...(first.userId === undefined ? {} : { userId: first.userId }), address: canonicalAddress(first.remoteAddress) };
}

function sum(reach: readonly Reach[]): number {
  return reach.reduce((n, r) => n + r.closed, 0);
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

function withDetails(exception: ChatException, details: ChatException['details']): ChatException {
  exception.details = details;
  return exception;
}

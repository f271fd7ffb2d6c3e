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
import { KICKED_CLOSE, type ModerationFrame, type RoomSettingsFrame } from '../protocol/frames';
import { ADMIN_TOKEN_USER_ID, type Identity } from '../protocol/identity';
import { nicknameKey } from '../protocol/nickname';
import { AuditStore } from '../store/audit-store.service';
import type { BanKind } from '../store/ban.entity';
import { StoreUnavailableError } from '../store/message-store.service';
import { ModerationStore } from '../store/moderation-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { ModerationRelay, type Reach } from './moderation-relay';
import { ModerationState, reachOf, sumClosed } from './moderation-state';
import { RefusalLog } from './refusal-log';
import { Sanctions, type Ban } from './sanctions';

/** Who acts, as the audit log names them, and from where. */
export interface Actor {
  name: string;
  address: string | null;
}

/** A moderation result: the `moderation` frame without its type (the REST routes' body). */
export type ModerationResult = Omit<ModerationFrame, 'type'>;

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
  private readonly state: ModerationState;
  /** The other nodes (cluster mode): every change is applied on each; a kick or ban asks what they closed. */
  private readonly relay: ModerationRelay;
  private readonly refusals = new RefusalLog();

  constructor(
    private readonly hub: Hub,
    private readonly store: ModerationStore,
    private readonly users: UserStore,
    private readonly directory: RoomDirectory,
    private readonly audit: AuditStore,
    private readonly metrics: ChatMetrics,
    @Optional() @Inject(CLUSTER_BUS) bus: ClusterBus | null = null,
  ) {
    this.state = new ModerationState(hub);
    this.relay = new ModerationRelay(bus ?? new LocalClusterBus(), (message) => this.state.applyRemote(message));
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
    const closed = this.state.closeBanned();
    this.logger.log({ msg: 'sanctions reloaded from the store', bans: this.state.sanctions.banCount, closed });
  }

  private async load(): Promise<void> {
    const { bans, mutes } = await this.store.active(new Date());
    this.state.replace(bans, mutes, await this.store.slowModes());
  }

  // ---- checks: the handshake and the message path

  /**
   * The ban that refuses a handshake from `address` (of user `userId`, jwt mode), if any. ADMIN_TOKEN
   * is never refused: the operator can always get in, and lift a ban. Each refusal is counted; its
   * audit row is written at most once a minute per ban and address (RefusalLog).
   */
  bannedHandshake(address: string, userId: string | undefined, adminToken: boolean): Ban | undefined {
    if (this.state.sanctions.banCount === 0 || adminToken || userId === ADMIN_TOKEN_USER_ID) return undefined;
    const ban = (userId === undefined ? undefined : this.state.sanctions.banOf('user', userId)) ?? this.state.sanctions.banOf('address', canonicalAddress(address));
    if (!ban) return undefined;
    this.metrics.banRefusals.inc({ kind: ban.kind });
    if (this.refusals.shouldAudit(`${ban.kind}\n${ban.target}\n${address}`)) {
      this.audit.note({ actor: userId ?? null, action: 'ban_refused', target: ban.target, address });
    }
    return ban;
  }

  /** On every room message, after the membership check: MUTED, then SLOW_MODE (admins and the room's owner are not held to it). */
  assertMaySend(session: Session, room: string): void {
    if (this.state.isRemoved(session)) throw new ChatException(ErrorCode.FORBIDDEN, 'This connection is being closed by a moderator');
    if (this.state.sanctions.hasMutes(room)) {
      const mute = this.state.sanctions.muteOf(room, session.userId ?? nicknameKey(session.nickname));
      if (mute) {
        const until = mute.until === null ? null : new Date(mute.until).toISOString();
        throw withDetails(new ChatException(ErrorCode.MUTED, `You are muted in "${room}" ${until === null ? 'until a moderator unmutes you' : `until ${until}`}`), { until });
      }
    }
    if (!this.state.slow.has(room) || session.isAdmin() || (session.userId !== undefined && this.state.slow.ownerOf(room) === session.userId)) return;
    const retryAfterMs = this.state.slow.take(room, session.userId ?? session.id);
    if (retryAfterMs > 0) {
      const message = `"${room}" is in slow mode: one message every ${this.state.slow.secondsOf(room)} s; wait ${Math.ceil(retryAfterMs / 1000)} s`;
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
    const sessions = this.state.localSessions(user);
    this.state.close(sessions, KICKED_CLOSE);
    // Cluster mode: every node closes the user's connections it holds, and says how many.
    const reach = [reachOf(sessions), ...(await this.relay.ask({ op: 'kick', ref: user }))].filter((r) => r.closed > 0);
    if (reach.length === 0) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${user}" is online`);
    const { user: nickname, userId } = reach[0];
    const result: ModerationResult = { action: 'kick', user: nickname, ...(userId === undefined ? {} : { userId }), closed: sumClosed(reach) };
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
    const closed = this.state.applyBan(ban).closed + sumClosed(await this.relay.ask({ op: 'ban', ban }));
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
    const inMemory = this.state.sanctions.unban(kind, target) !== undefined;
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
    this.state.sanctions.mute(mute);
    this.relay.publish({ op: 'mute', mute });
    const stored = { room, target: found.key, expiresAt: iso(until), reason: reason ?? null, actor: actor.name, createdAt: iso(now)! };
    await this.stored(() => this.store.putMute(stored), 'The mute');
    await this.record(actor, 'mute', { target: found.key, room, reason });
    return { action: 'mute', room, user: found.user, ...(found.userId === undefined ? {} : { userId: found.userId }), until: iso(until) };
  }

  async unmute(actor: Actor, { room, user }: UnmuteDto): Promise<ModerationResult> {
    const found = await this.userTarget(user);
    const inMemory = this.state.sanctions.unmute(room, found.key) !== undefined;
    this.relay.publish({ op: 'unmute', room, target: found.key });
    const inStore = await this.stored(() => this.store.removeMute(room, found.key), 'The unmute');
    await this.record(actor, 'unmute', { target: found.key, room });
    return { action: 'unmute', room, user: found.user, ...(found.userId === undefined ? {} : { userId: found.userId }), lifted: inMemory || inStore };
  }

  /** The bans and mutes in force, oldest first (GET /api/admin/bans, /api/admin/mutes). */
  activeBans(): Ban[] {
    return this.state.sanctions.listBans();
  }

  activeMutes(): ReturnType<Sanctions['listMutes']> {
    return this.state.sanctions.listMutes();
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
    this.state.slow.set(room, seconds, ownerId);
    this.relay.publish({ op: 'slow_mode', room, seconds, ownerId });
    const frame: RoomSettingsFrame = { type: 'room_settings', room, slowModeSeconds: seconds, by: session.nickname };
    if (session.userId !== undefined) frame.byId = session.userId;
    this.hub.toRoom(room, frame);
    if (!this.hub.roomsOf(session).has(room)) session.send(frame);
    await this.stored(() => this.store.setSlowMode(room, seconds), 'Slow mode');
    await this.record(actorOf(session), 'slow_mode', { target: String(seconds), room });
  }

  // ----

  /** Anonymous mode: the connection holding a nickname, on this node or (cluster mode) another; NO_SUCH_USER when none does. */
  private async findNickname(ref: string): Promise<Reach> {
    const local = this.state.localSessions(ref);
    const found = local.length > 0 ? reachOf(local) : (await this.relay.ask({ op: 'find', ref })).find((r) => r.closed > 0);
    if (!found) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${ref}" is online`);
    return found;
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

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

function withDetails(exception: ChatException, details: ChatException['details']): ChatException {
  exception.details = details;
  return exception;
}

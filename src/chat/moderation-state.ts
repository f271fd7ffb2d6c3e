import type { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { canonicalAddress } from '../protocol/address';
import { BANNED_CLOSE, KICKED_CLOSE } from '../protocol/frames';
import { ADMIN_TOKEN_USER_ID } from '../protocol/identity';
import type { StoredBan, StoredMute, StoredSlowMode } from '../store/moderation-store.service';
import type { ModerationMessage, Reach } from './moderation-relay';
import { Sanctions, type Ban } from './sanctions';
import { SlowMode } from './slow-mode';

/** A closed connection is given this long to answer the close before it is dropped. */
const CLOSE_GRACE_MS = 3000;

/**
 * What moderation holds on this node and applies to its connections: the bans, mutes and slow
 * modes in force (checked from memory, never from the database), and the connections being closed
 * by a kick or a ban. ModerationService changes it for its own actions; in cluster mode the other
 * nodes' changes land here too (applyRemote).
 */
export class ModerationState {
  /** Replaced whole by a reload (replace). */
  sanctions = new Sanctions();
  readonly slow = new SlowMode();
  /** Connections closed by a kick or a ban: what they still send while closing is refused. */
  private readonly removed = new WeakSet<Session>();

  constructor(private readonly hub: Hub) {}

  isRemoved(session: Session): boolean {
    return this.removed.has(session);
  }

  /** The store's sanctions in force replace what is held; slow rooms keep who sent when (SlowMode.set), so a reload frees nobody early. */
  replace(bans: readonly StoredBan[], mutes: readonly StoredMute[], slowModes: readonly StoredSlowMode[]): void {
    const time = (iso: string | null) => (iso === null ? null : Date.parse(iso));
    const sanctions = new Sanctions();
    for (const ban of bans) sanctions.ban({ ...ban, until: time(ban.expiresAt), at: Date.parse(ban.createdAt) });
    for (const mute of mutes) sanctions.mute({ ...mute, until: time(mute.expiresAt), at: Date.parse(mute.createdAt) });
    this.sanctions = sanctions;
    this.slow.keepOnly(new Set(slowModes.map((s) => s.room)));
    for (const { room, seconds, ownerId } of slowModes) this.slow.set(room, seconds, ownerId);
  }

  /** Closes (4003 `banned`) this node's connections that a ban in force names; how many. */
  closeBanned(): number {
    const banned = [...this.hub.sessions()].filter((s) => !isTokenAdmin(s) && this.banOf(s) !== undefined);
    this.close(banned, BANNED_CLOSE);
    return banned.length;
  }

  /** The connections of this node `ref` names: every connection of a user (jwt mode), a nickname's one (anonymous). */
  localSessions(ref: string): Session[] {
    if (this.hub.isIdentified) {
      const user = this.hub.findOnline(ref);
      return user ? [...user.sessions] : [];
    }
    const session = this.hub.findUser(ref);
    return session ? [session] : [];
  }

  /** Puts a ban in force here and closes this node's connections it names. */
  applyBan(ban: Ban): Reach {
    this.sanctions.ban(ban);
    const { kind, target } = ban;
    const banned = [...this.hub.sessions()].filter((s) => !isTokenAdmin(s) && (kind === 'user' ? s.userId === target : canonicalAddress(s.remoteAddress) === target));
    this.close(banned, BANNED_CLOSE);
    return { closed: banned.length };
  }

  /** A change made on another node (cluster mode), applied here; a kick, ban or find is answered with what this node holds. */
  applyRemote(message: Exclude<ModerationMessage, { op: 'reach' }>): Reach | undefined {
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

  close(sessions: readonly Session[], { code, reason }: { code: number; reason: string }): void {
    for (const session of sessions) {
      this.removed.add(session);
      void session.close(code, reason, CLOSE_GRACE_MS);
    }
  }

  private banOf(session: Session): Ban | undefined {
    return (session.userId === undefined ? undefined : this.sanctions.banOf('user', session.userId)) ?? this.sanctions.banOf('address', canonicalAddress(session.remoteAddress));
  }
}

/** ADMIN_TOKEN's connections: no ban closes or refuses them. */
export function isTokenAdmin(session: Session): boolean {
  return session.adminToken || session.userId === ADMIN_TOKEN_USER_ID;
}

/** What a node holds of a target: its connections' count, the user's name and id, the first one's address. */
export function reachOf(sessions: readonly Session[]): Reach {
  const first = sessions[0] as Session | undefined;
  if (first === undefined) return { closed: 0 };
  return { closed: sessions.length, user: first.nickname, ...(first.userId === undefined ? {} : { userId: first.userId }), address: canonicalAddress(first.remoteAddress) };
}

export function sumClosed(reach: readonly Reach[]): number {
  return reach.reduce((n, r) => n + r.closed, 0);
}

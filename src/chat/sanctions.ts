import type { BanKind } from '../store/ban.entity';

/** A ban or a mute in memory. Times are epoch ms; `until` null: until lifted. */
export interface Sanction {
  target: string;
  until: number | null;
  reason: string | null;
  actor: string | null;
  at: number;
}

export interface Ban extends Sanction {
  kind: BanKind;
}

export interface Mute extends Sanction {
  room: string;
}

/** How a banned client is refused, on the WebSocket handshake and on REST alike: 403, a JSON body shaped like the 401s', Retry-After while the ban has an end. */
export interface BanRefusal {
  status: 403;
  headers: Record<string, string>;
  body: { statusCode: 403; error: 'Forbidden'; reason: 'banned'; message: string; until: string | null };
}

export function banRefusal(ban: Ban, now = Date.now()): BanRefusal {
  const until = ban.until === null ? null : new Date(ban.until).toISOString();
  const who = ban.kind === 'user' ? 'This user' : 'This address';
  const message = `${who} is banned ${until === null ? 'until a moderator lifts the ban' : `until ${until}`}`;
  const headers: Record<string, string> = {};
  if (ban.until !== null) headers['Retry-After'] = String(Math.max(1, Math.ceil((ban.until - now) / 1000)));
  return { status: 403, headers, body: { statusCode: 403, error: 'Forbidden', reason: 'banned', message, until } };
}

const inForce = (sanction: Sanction, now: number): boolean => sanction.until === null || sanction.until > now;

/**
 * The bans and mutes in force, in memory, so the handshake and the message path check them with a
 * map lookup and no database read. An ended one is dropped when it is next looked at: no timers.
 */
export class Sanctions {
  private readonly bans = new Map<string, Ban>();
  /** room -> target -> mute. */
  private readonly mutes = new Map<string, Map<string, Mute>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Bans held (some may have ended): 0 lets a handshake skip the check. */
  get banCount(): number {
    return this.bans.size;
  }

  hasMutes(room: string): boolean {
    return this.mutes.size > 0 && this.mutes.has(room);
  }

  ban(ban: Ban): void {
    this.bans.set(banKey(ban.kind, ban.target), ban);
  }

  /** The ban lifted, or undefined when there was none in force. */
  unban(kind: BanKind, target: string): Ban | undefined {
    const ban = this.banOf(kind, target);
    this.bans.delete(banKey(kind, target));
    return ban;
  }

  banOf(kind: BanKind, target: string): Ban | undefined {
    if (this.bans.size === 0) return undefined;
    const key = banKey(kind, target);
    const ban = this.bans.get(key);
    if (ban === undefined || inForce(ban, this.now())) return ban;
    this.bans.delete(key);
    return undefined;
  }

  mute(mute: Mute): void {
    let room = this.mutes.get(mute.room);
    if (!room) this.mutes.set(mute.room, (room = new Map<string, Mute>()));
    room.set(mute.target, mute);
  }

  unmute(room: string, target: string): Mute | undefined {
    const mute = this.muteOf(room, target);
    this.dropMute(room, target);
    return mute;
  }

  /** On every message: one lookup when the room has no mutes, two when it has. */
  muteOf(room: string, target: string): Mute | undefined {
    const mute = this.mutes.get(room)?.get(target);
    if (mute === undefined || inForce(mute, this.now())) return mute;
    this.dropMute(room, target);
    return undefined;
  }

  private dropMute(room: string, target: string): void {
    const muted = this.mutes.get(room);
    muted?.delete(target);
    if (muted?.size === 0) this.mutes.delete(room);
  }

  /** The bans in force, oldest first. */
  listBans(): Ban[] {
    const now = this.now();
    return [...this.bans.values()].filter((ban) => inForce(ban, now)).sort((a, b) => a.at - b.at);
  }

  /** The mutes in force, oldest first. */
  listMutes(): Mute[] {
    const now = this.now();
    return [...this.mutes.values()]
      .flatMap((room) => [...room.values()])
      .filter((mute) => inForce(mute, now))
      .sort((a, b) => a.at - b.at);
  }
}

function banKey(kind: BanKind, target: string): string {
  return `${kind}\n${target}`;
}

import type { Session } from './session';

/**
 * Who is present in a room and named in presence frames: a connection in anonymous mode (a Session
 * is its own member), a user with all its connections in jwt mode.
 */
export interface Member {
  /**
   * Numbers members and sessions alike: a delivery's `except` names the member that must not get
   * it, and every session carries its member's key, so the per-recipient check stays one compare.
   */
  readonly key: number;
  readonly nickname: string;
  /** jwt mode only. */
  readonly userId: string | undefined;
  /** Epoch ms: when the member came online. */
  readonly connectedAt: number;
  /** Last relayed typing indicator per room (epoch ms): typing is throttled per member. */
  readonly typingAt: Map<string, number>;
  forgetTyping(room: string): void;
}

/**
 * A signed-in user with at least one connection on this node (jwt mode): one presence entry, one
 * membership shared by all its connections, one typing throttle. The store keeps its membership;
 * this keeps it in memory while the user is online, so no frame needs a database read.
 */
export class User implements Member {
  readonly sessions = new Set<Session>();
  /** The rooms the user is a member of, loaded from the store at its first connection (null until then). */
  rooms: Set<string> | null = null;
  /** Rooms whose members were told this user arrived: they will be told when it leaves. */
  readonly announced = new Set<string>();
  readonly connectedAt = Date.now();
  private typing?: Map<string, number>;

  constructor(
    readonly key: number,
    readonly userId: string,
    /** From the token of the user's first connection; kept while the user stays online. */
    readonly nickname: string,
    /** From the token of the user's newest connection. */
    public roles: readonly string[],
  ) {}

  get typingAt(): Map<string, number> {
    return (this.typing ??= new Map());
  }

  forgetTyping(room: string): void {
    this.typing?.delete(room);
  }

  isAdmin(): boolean {
    return this.roles.includes(ADMIN_ROLE);
  }
}

/** The role that may invite to and remove from any private room. */
export const ADMIN_ROLE = 'admin';

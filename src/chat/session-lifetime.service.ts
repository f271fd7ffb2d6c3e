import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AuthFailure } from '../auth/auth-failure';
import { AuthService } from '../auth/auth.service';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { TOKEN_EXPIRED_CLOSE, type AuthOkFrame } from '../protocol/frames';

/** How long an expired connection is given to answer its close before it is dropped. */
export const EXPIRED_CLOSE_GRACE_MS = 3000;
/** setTimeout's longest delay (about 24.8 days); a later expiry is reached in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A signed-in connection lasts as long as its token: at the token's `exp` it is closed with 4001
 * `token expired`, unless an `auth` event brought a valid token of the same user first, which
 * moves the deadline. One unref'd timer per signed-in connection, cleared when it closes.
 */
@Injectable()
export class SessionLifetime implements OnModuleDestroy {
  private readonly timers = new Map<Session, NodeJS.Timeout>();

  constructor(
    private readonly hub: Hub,
    private readonly auth: AuthService,
  ) {}

  /** Starts the clock of a signed-in session; an anonymous one has none. */
  track(session: Session): void {
    if (session.identity) this.schedule(session);
  }

  forget(session: Session): void {
    clearTimeout(this.timers.get(session));
    this.timers.delete(session);
  }

  /** Connections whose expiry is being watched. */
  get tracked(): number {
    return this.timers.size;
  }

  /**
   * The `auth` event: a new token for the same user. UNAUTHORIZED when it is not valid (saying
   * why), FORBIDDEN when it is another user's or nobody signed in on this connection; either way the
   * connection stays as it was.
   */
  async renew(session: Session, token: string): Promise<AuthOkFrame> {
    const current = session.identity;
    if (!current) throw new ChatException(ErrorCode.FORBIDDEN, 'This connection is not signed in: the server runs without sign-in (AUTH_MODE=anonymous)');
    let identity;
    try {
      identity = await this.auth.authenticate(token);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      if (error.reason === 'keys_unavailable') throw new ChatException(ErrorCode.UNAVAILABLE, error.message);
      throw new ChatException(ErrorCode.UNAUTHORIZED, `${error.message} (${error.reason})`);
    }
    if (identity.userId !== current.userId) {
      throw new ChatException(ErrorCode.FORBIDDEN, 'That token is for another user; a connection stays with the user who opened it');
    }
    if (!session.isClosed) {
      this.hub.renewIdentity(session, identity);
      this.schedule(session);
    }
    return { type: 'auth_ok', expiresAt: new Date(identity.expiresAt).toISOString() };
  }

  onModuleDestroy(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(session: Session): void {
    this.forget(session);
    const left = (session.identity?.expiresAt ?? 0) - Date.now();
    const timer = setTimeout(() => this.expire(session), Math.min(Math.max(left, 0), MAX_TIMER_MS));
    timer.unref();
    this.timers.set(session, timer);
  }

  private expire(session: Session): void {
    this.timers.delete(session);
    if (session.isClosed || !session.identity) return;
    // A far expiry is reached in MAX_TIMER_MS steps; timers may also fire a little early.
    if (session.identity.expiresAt > Date.now()) return this.schedule(session);
    void session.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason, EXPIRED_CLOSE_GRACE_MS);
  }
}

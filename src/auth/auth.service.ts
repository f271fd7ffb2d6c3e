import type { AuthMode } from '../config/env.validation';
import { ADMIN_ROLE, ADMIN_TOKEN_USER_ID, isAdmin, type Identity } from '../protocol/identity';
import { AuthFailure } from './auth-failure';
import { sameSecret } from './bearer';
import type { TokenVerifier } from './token-verifier';

/** The role that opens GET /metrics to a signed-in user. */
export const METRICS_ROLE = ADMIN_ROLE;

/** How long an ADMIN_TOKEN identity lasts: the token is static, so a year (the expiry timer runs in steps). */
const ADMIN_TOKEN_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export interface AuthSettings {
  mode: AuthMode;
  /** Present in jwt mode. */
  verifier?: TokenVerifier;
  metricsToken?: string;
  /** ADMIN_TOKEN: acts as an admin on REST and on the handshake, in either mode. */
  adminToken?: string;
}

/**
 * Who may do what, for the edges (the WebSocket handshake, the REST hook, /metrics) and the chat
 * services (`auth` refreshes). Anonymous mode asks for nothing, /metrics aside when METRICS_TOKEN
 * is set; jwt mode asks every handshake and API request for a valid token.
 */
export class AuthService {
  readonly mode: AuthMode;

  constructor(private readonly settings: AuthSettings) {
    this.mode = settings.mode;
    if (settings.mode === 'jwt' && !settings.verifier) throw new Error('jwt mode needs a token verifier');
  }

  get required(): boolean {
    return this.mode === 'jwt';
  }

  /** Whether /metrics asks for credentials at all. */
  get guardsMetrics(): boolean {
    return this.required || this.settings.metricsToken !== undefined;
  }

  /**
   * The identity of a token: ADMIN_TOKEN's (in either mode) or, in jwt mode, a verified token's.
   * Throws an AuthFailure (`missing` for no token).
   */
  async authenticate(token: string | undefined): Promise<Identity> {
    if (token === undefined || token === '') throw new AuthFailure('missing', 'A bearer token is required');
    if (this.isAdminToken(token)) return adminTokenIdentity();
    const verifier = this.settings.verifier;
    if (!verifier) throw new AuthFailure('unknown_token', 'This server does not sign anyone in (AUTH_MODE=anonymous)');
    return verifier.verify(token);
  }

  /** Whether `token` is ADMIN_TOKEN (compared in constant time); false when ADMIN_TOKEN is unset. */
  isAdminToken(token: string | undefined): boolean {
    const { adminToken } = this.settings;
    return token !== undefined && adminToken !== undefined && sameSecret(token, adminToken);
  }

  /**
   * The admin routes (/api/admin/*): ADMIN_TOKEN, or in jwt mode a user token with the role
   * `admin` (403 `insufficient_role` for another user). Anonymous mode has no other admin.
   */
  async authorizeAdmin(token: string | undefined): Promise<Identity> {
    if (token === undefined) throw new AuthFailure('missing', 'This route needs ADMIN_TOKEN or a token with the role "admin"');
    if (!this.required && !this.isAdminToken(token)) throw new AuthFailure('unknown_token', 'The bearer token is not ADMIN_TOKEN');
    const identity = await this.authenticate(token);
    if (!isAdmin(identity)) throw new AuthFailure('insufficient_role', `This route needs the role "${ADMIN_ROLE}" or ADMIN_TOKEN`);
    return identity;
  }

  /**
   * GET /metrics: METRICS_TOKEN (compared in constant time), or in jwt mode a user token with the
   * role `admin`. Open when neither applies (anonymous mode without METRICS_TOKEN).
   */
  async authorizeMetrics(token: string | undefined): Promise<void> {
    if (!this.guardsMetrics) return;
    const { metricsToken } = this.settings;
    if (token !== undefined && metricsToken !== undefined && sameSecret(token, metricsToken)) return;
    if (!this.required) {
      if (token === undefined) throw new AuthFailure('missing', 'GET /metrics needs METRICS_TOKEN as a bearer token');
      throw new AuthFailure('unknown_token', 'The bearer token is not METRICS_TOKEN');
    }
    const identity = await this.authenticate(token);
    if (!identity.roles.includes(METRICS_ROLE)) {
      throw new AuthFailure('insufficient_role', `GET /metrics needs the role "${METRICS_ROLE}" or METRICS_TOKEN`);
    }
  }
}

/** Who presents ADMIN_TOKEN: an admin with a fixed id, so the audit log names the token's actions. */
export function adminTokenIdentity(): Identity {
  return { userId: ADMIN_TOKEN_USER_ID, nickname: 'admin', roles: [ADMIN_ROLE], expiresAt: Date.now() + ADMIN_TOKEN_LIFETIME_MS };
}

import type { AuthMode } from '../config/env.validation';
import type { Identity } from '../protocol/identity';
import { AuthFailure } from './auth-failure';
import { sameSecret } from './bearer';
import type { TokenVerifier } from './token-verifier';

/** The role that opens GET /metrics to a signed-in user. */
export const METRICS_ROLE = 'admin';

export interface AuthSettings {
  mode: AuthMode;
  /** Present in jwt mode. */
  verifier?: TokenVerifier;
  metricsToken?: string;
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

  /** The identity of a token, in jwt mode; throws an AuthFailure (`missing` for no token). */
  async authenticate(token: string | undefined): Promise<Identity> {
    if (token === undefined || token === '') throw new AuthFailure('missing', 'A bearer token is required');
    const verifier = this.settings.verifier;
    if (!verifier) throw new AuthFailure('unknown_token', 'This server does not sign anyone in (AUTH_MODE=anonymous)');
    return verifier.verify(token);
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

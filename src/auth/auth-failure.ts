/** Why a token (or its absence) was refused: the `reason` of a 401, 403 or 503 body. */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'unknown_token'
  | 'insufficient_role'
  | 'keys_unavailable';

export interface AuthFailureBody {
  statusCode: number;
  error: string;
  reason: AuthFailureReason;
  message: string;
}

/**
 * A request or handshake refused for its credentials. The same status, headers and JSON body on
 * the WebSocket handshake (before the upgrade) and on REST, so a client handles both alike.
 * RFC 6750 §3: a request with no token gets the bare `Bearer` challenge, an invalid token
 * `error="invalid_token"`, a valid token without the role `error="insufficient_scope"` (403). An
 * identity provider whose keys cannot be fetched is the server's problem, not the token's: 503.
 */
export class AuthFailure extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'AuthFailure';
  }

  get status(): 401 | 403 | 503 {
    if (this.reason === 'insufficient_role') return 403;
    if (this.reason === 'keys_unavailable') return 503;
    return 401;
  }

  /** The response headers besides Content-Type. */
  get headers(): Record<string, string> {
    switch (this.status) {
      case 401:
        return { 'WWW-Authenticate': this.reason === 'missing' ? 'Bearer realm="nest-chat"' : 'Bearer error="invalid_token"' };
      case 403:
        return { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' };
      case 503:
        return { 'Retry-After': '5' };
    }
  }

  get body(): AuthFailureBody {
    const error = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[this.status];
    return { statusCode: this.status, error, reason: this.reason, message: this.message };
  }
}

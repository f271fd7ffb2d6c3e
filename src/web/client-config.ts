import type { AuthMode } from '../config/env.validation';

/** What the web client needs to know before it connects: GET /client-config.json. */
export interface ClientConfig {
  /** `jwt`: the page needs a token (from its URL fragment, a sign-in redirect or a refresh). */
  authMode: AuthMode;
  /** AUTH_LOGIN_URL: where the page sends someone who has no token; null when unset. */
  loginUrl: string | null;
  /** AUTH_REFRESH_URL: where the page gets a fresh token before its token expires; null when unset. */
  refreshUrl: string | null;
}

export interface ClientSettings {
  AUTH_MODE: AuthMode;
  AUTH_LOGIN_URL?: string;
  AUTH_REFRESH_URL?: string;
}

export function clientConfig(settings: ClientSettings): ClientConfig {
  // Empty is unset, as everywhere in the configuration.
  return { authMode: settings.AUTH_MODE, loginUrl: settings.AUTH_LOGIN_URL || null, refreshUrl: settings.AUTH_REFRESH_URL || null };
}

/** The sources the page may fetch from, besides itself: the refresh URL's origin when there is one. */
const BASE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

/**
 * The web client's Content-Security-Policy, sent as a header with every file of the client. Only
 * the page's own scripts run (no inline script, no eval); it connects to its own origin (REST and
 * the WebSocket) and, in jwt mode, to AUTH_REFRESH_URL's origin, which can be another host (the
 * identity provider). A header rather than a <meta> tag, because that origin is configuration, and
 * because a header can also forbid framing (clickjacking), which a <meta> policy cannot.
 */
export function contentSecurityPolicy(refreshUrl?: string | null): string {
  const connect = ["'self'"];
  if (refreshUrl) connect.push(new URL(refreshUrl).origin);
  return [...BASE_POLICY.slice(0, 3), `connect-src ${connect.join(' ')}`, ...BASE_POLICY.slice(3)].join('; ');
}

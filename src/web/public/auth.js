// Sign-in (AUTH_MODE=jwt, docs/web-client.md#signing-in): where the page's token comes from, where
// it goes (the `bearer` subprotocol, the Authorization header of REST calls), renewing it before it
// expires, and telling a refused token from a network failure. In anonymous mode none of this runs.
//
// The token arrives in the URL fragment (`#token=…`, which no server or Referer ever sees), is kept
// for this tab in sessionStorage, and is renewed from AUTH_REFRESH_URL. The page never verifies it:
// it only reads `exp` and `sub` from the payload, to know when to renew and whose resume point to use.

const TOKEN_KEY = 'chat.accessToken';
const SIGN_IN_KEY = 'chat.signInStartedAt'; // when this tab last went to AUTH_LOGIN_URL: no redirect loop
const SIGN_IN_LOOP_MS = 60000;
const RENEW_AHEAD_MS = 60000; // renew this long before `exp` (or halfway there, for shorter tokens)
const RENEW_RETRY_MS = 10000;
const REQUEST_TIMEOUT_MS = 10000;
const CONFIG_RETRY_MAX_MS = 15000;

export const signIn = {
  mode: 'anonymous',
  loginUrl: null,
  refreshUrl: null,
  token: '',
  claims: null, // the token's payload, read without verifying it
};

let renewTimer = null;
let renewing = null; // the renewal on its way (a promise of the new token, or '' when none came)
let onRenewed = null; // (token) => void: connection.js sends it in an `auth` event

export function isSignedInMode() {
  return signIn.mode === 'jwt';
}

/** GET /client-config.json, tried again with backoff while the server cannot be reached. */
export async function loadClientConfig() {
  for (let wait = 500; ; wait = Math.min(wait * 2, CONFIG_RETRY_MAX_MS)) {
    try {
      const res = await fetch('/client-config.json', { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (res.ok) {
        const body = await res.json();
        signIn.mode = body.authMode === 'jwt' ? 'jwt' : 'anonymous';
        signIn.loginUrl = typeof body.loginUrl === 'string' ? body.loginUrl : null;
        signIn.refreshUrl = typeof body.refreshUrl === 'string' ? body.refreshUrl : null;
        return;
      }
    } catch {
      // the server is not reachable yet
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * Takes the token from the URL fragment (`#token=` or `#access_token=`), removing the fragment from
 * the address bar and the history entry so that it is neither bookmarked nor shared, else from this
 * tab's storage. Returns whether the page has a token.
 */
export function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token') || fragment.get('access_token');
  if (fromUrl) {
    history.replaceState(history.state, '', location.pathname + location.search);
    try {
      sessionStorage.removeItem(SIGN_IN_KEY);
    } catch {
      // nothing to forget
    }
    setToken(fromUrl);
    return true;
  }
  let stored = '';
  try {
    stored = sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    // storage disabled: only a fragment signs this page in
  }
  if (stored) setToken(stored);
  return stored !== '';
}

export function setToken(token) {
  signIn.token = token;
  signIn.claims = decodePayload(token);
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // kept for this page's life only
  }
}

/** Forgets a token the server refused, so that a reload does not try it again. */
export function dropToken() {
  signIn.token = '';
  signIn.claims = null;
  clearTimeout(renewTimer);
  renewTimer = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing kept
  }
}

/** The JSON payload of a JWT, or null when it is not one. Not verified: the server does that. */
export function decodePayload(token) {
  const part = typeof token === 'string' ? token.split('.')[1] : undefined;
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    return payload && typeof payload === 'object' ? payload : null;
  } catch {
    return null;
  }
}

/** The user id the token names (its `sub`), or ''. */
export function tokenUserId() {
  const sub = signIn.claims?.sub;
  return typeof sub === 'string' ? sub : '';
}

/** When the token expires, in epoch ms (NaN when it does not say). */
function expiresAt() {
  const exp = signIn.claims?.exp;
  return typeof exp === 'number' ? exp * 1000 : NaN;
}

/** The headers that sign a REST call in (none in anonymous mode). */
export function authHeaders() {
  return isSignedInMode() && signIn.token ? { authorization: `Bearer ${signIn.token}` } : {};
}

/** AUTH_LOGIN_URL with `return_to` set to this page (without its fragment); null when it is not set. */
export function signInUrl() {
  if (!signIn.loginUrl) return null;
  try {
    const url = new URL(signIn.loginUrl, location.href);
    url.searchParams.set('return_to', location.origin + location.pathname + location.search);
    return url.href;
  } catch {
    return null;
  }
}

/**
 * Sends the browser to AUTH_LOGIN_URL, unless this tab went there less than a minute ago and came
 * back without a token (a login service that does not hand one over would otherwise loop forever).
 * Returns whether the page is going there.
 */
export function goSignIn() {
  const url = signInUrl();
  if (!url) return false;
  try {
    const started = Number(sessionStorage.getItem(SIGN_IN_KEY));
    if (Date.now() - started < SIGN_IN_LOOP_MS) return false;
    sessionStorage.setItem(SIGN_IN_KEY, String(Date.now()));
  } catch {
    return false; // no memory of a first try, so no way to stop a loop: the user clicks the link
  }
  location.assign(url);
  return true;
}

/**
 * Renewals go through `send` (connection.js), once a connection is live: call this from its welcome.
 * Sets the timer for the current token.
 */
export function startRenewals(sendRenewed) {
  onRenewed = sendRenewed;
  scheduleRenewal(expiresAt());
}

/** `auth_ok`: the connection now lasts until `expiresAt`; the next renewal goes a little before. */
export function onAuthOk(frame) {
  const until = Date.parse(frame.expiresAt);
  scheduleRenewal(Number.isFinite(until) ? until : expiresAt());
}

function scheduleRenewal(until) {
  clearTimeout(renewTimer);
  renewTimer = null;
  if (!signIn.refreshUrl || !Number.isFinite(until)) return;
  const left = until - Date.now();
  renewTimer = setTimeout(() => void renewAhead(until), Math.max(0, left - Math.min(RENEW_AHEAD_MS, left / 2)));
}

/** Before the deadline: a new token goes to the server in `auth`; a failed try is tried again while time is left. */
async function renewAhead(until) {
  renewTimer = null;
  const token = await renewToken();
  if (token) {
    onRenewed?.(token); // auth_ok schedules the next one
    return;
  }
  const left = until - Date.now();
  if (left > 2000) renewTimer = setTimeout(() => void renewAhead(until), Math.min(RENEW_RETRY_MS, left / 2));
}

/**
 * A fresh token from AUTH_REFRESH_URL: `GET` with the browser's cookies for that site
 * (`credentials: 'include'`), answered with `{"token": "<jwt>"}` (or `access_token`) or the bare
 * token as text. Resolves to the new token, or '' when there is no refresh URL or it gave none.
 * Calls made while one is on its way share it.
 */
export function renewToken() {
  if (!signIn.refreshUrl) return Promise.resolve('');
  renewing ??= fetchToken().finally(() => {
    renewing = null;
  });
  return renewing;
}

async function fetchToken() {
  let token = '';
  try {
    const res = await fetch(signIn.refreshUrl, {
      credentials: 'include',
      cache: 'no-store',
      headers: { accept: 'application/json, text/plain' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!res.ok) return '';
    const text = (await res.text()).trim();
    if (text.startsWith('{')) {
      const body = JSON.parse(text);
      token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    } else {
      token = text;
    }
  } catch {
    return '';
  }
  if (!decodePayload(token)) return '';
  setToken(token);
  return token;
}

/**
 * A connection that closed before it opened: a browser does not show the HTTP status of a refused
 * handshake, so ask the API with the same token. Resolves to {refused: true, message} for a 401
 * (the server's own words for why), else {refused: false} (the server is down, or busy: reconnect).
 */
export async function checkToken() {
  try {
    const res = await fetch('/api/users?limit=1', {
      headers: { accept: 'application/json', ...authHeaders() },
      cache: 'no-store',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (res.status !== 401) return { refused: false };
    const body = await res.json().catch(() => ({}));
    return { refused: true, reason: body.reason, message: typeof body.message === 'string' ? body.message : '' };
  } catch {
    return { refused: false };
  }
}

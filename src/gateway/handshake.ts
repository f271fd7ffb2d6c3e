import type { IncomingMessage } from 'node:http';
import { AuthFailure } from '../auth/auth-failure';
import type { AuthService } from '../auth/auth.service';
import { bearerFromAuthorization } from '../auth/bearer';
import { clientAddress, normalizeAddress, type ProxyTrust } from '../config/trust-proxy';
import type { Identity } from '../protocol/identity';

/** The subprotocol a browser offers with its token, `new WebSocket(url, ['bearer', jwt])`, and the one the server answers. */
export const BEARER_PROTOCOL = 'bearer';

/** The identity each accepted handshake was verified as, until the gateway's handleConnection takes it. */
const identities = new WeakMap<IncomingMessage, Identity>();

export function handshakeIdentity(request: IncomingMessage): Identity | undefined {
  return identities.get(request);
}

/** Each handshake's client address, decided once by resolveHandshakeAddress (the first check a handshake meets). */
const addresses = new WeakMap<IncomingMessage, string>();

/**
 * The client address of a handshake: what bans, caps and logs go by. The address
 * resolveHandshakeAddress decided (TRUST_PROXY: the X-Forwarded-For entry that trusted proxies
 * vouch for); the TCP peer for a request it has not seen.
 */
export function handshakeAddress(request: IncomingMessage): string {
  return addresses.get(request) ?? normalizeAddress(request.socket.remoteAddress ?? 'unknown');
}

/** Decides (and keeps, for handshakeAddress) the client address of a handshake: see clientAddress. */
export function resolveHandshakeAddress(request: IncomingMessage, trust: ProxyTrust): string {
  const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trust);
  addresses.set(request, address);
  return address;
}

/** Anonymous-mode handshakes that presented ADMIN_TOKEN (in jwt mode the token is an identity: ADMIN_TOKEN_USER_ID). */
const adminHandshakes = new WeakSet<IncomingMessage>();

export function handshakeIsAdmin(request: IncomingMessage): boolean {
  return adminHandshakes.has(request);
}

/**
 * Anonymous mode asks for no token; one that is ADMIN_TOKEN marks the connection an admin's. Any
 * other token, or a broken one, is ignored: the connection is a guest's as without it.
 */
export function noteAnonymousAdmin(request: IncomingMessage, auth: AuthService): void {
  let token: string | undefined;
  try {
    token = handshakeToken(request);
  } catch {
    return;
  }
  if (auth.isAdminToken(token)) adminHandshakes.add(request);
}

/**
 * The token of a WebSocket opening handshake: `Authorization: Bearer <jwt>`, the subprotocol
 * pair `bearer, <jwt>`, or `?access_token=<jwt>`. Undefined when there is none; `malformed` when
 * one of them is broken or more than one is used (RFC 6750 §2: one method per request).
 */
export function handshakeToken(request: IncomingMessage): string | undefined {
  const found: string[] = [];
  const header = bearerFromAuthorization(request.headers.authorization);
  if (header !== undefined) found.push(header);
  const fromProtocol = protocolToken(request.headers['sec-websocket-protocol']);
  if (fromProtocol !== undefined) found.push(fromProtocol);
  const fromQuery = queryTokens(request.url ?? '/');
  if (fromQuery.length > 1) throw new AuthFailure('malformed', 'access_token may be given once');
  found.push(...fromQuery);
  if (found.length > 1) throw new AuthFailure('malformed', 'Send the token one way only: the Authorization header, the bearer subprotocol or access_token');
  return found[0];
}

/** Verifies the handshake's token and keeps its identity for handleConnection; throws an AuthFailure. */
export async function authenticateHandshake(request: IncomingMessage, auth: AuthService): Promise<Identity> {
  const identity = await auth.authenticate(handshakeToken(request));
  identities.set(request, identity);
  return identity;
}

/**
 * The subprotocol answered (ws's handleProtocols): `bearer` when offered, so the token offered
 * after it is never echoed back; otherwise the first one offered, as ws does by default.
 */
export function chooseProtocol(offered: Set<string>): string | false {
  if (offered.has(BEARER_PROTOCOL)) return BEARER_PROTOCOL;
  const first = offered.values().next();
  return first.done ? false : first.value;
}

/** The token after `bearer` in a Sec-WebSocket-Protocol header; undefined without `bearer`. */
function protocolToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const offered = header.split(',').map((p) => p.trim());
  const at = offered.indexOf(BEARER_PROTOCOL);
  if (at === -1) return undefined;
  const token = offered[at + 1];
  if (token === undefined || token === '') throw new AuthFailure('malformed', 'The bearer subprotocol must be followed by the token: ["bearer", "<jwt>"]');
  return token;
}

function queryTokens(url: string): string[] {
  try {
    return new URL(url, 'ws://localhost').searchParams.getAll('access_token');
  } catch {
    return [];
  }
}

import type { IncomingMessage } from 'node:http';
import type { AllowedOrigins } from '../config/allowed-origins';
import type { ProxyTrust } from '../config/trust-proxy';
import type { RefusalReason } from '../metrics/chat-metrics.service';
import { resolveHandshakeAddress } from './handshake';

export interface HandshakeLimitSettings {
  allowedOrigins: AllowedOrigins;
  trust: ProxyTrust;
  maxPerAddress: number;
  maxPerUser: number;
  maxTotal: number;
}

/** A handshake refused by a limit: answered before the upgrade with this status, headers and a JSON body like the 401s. */
export interface LimitRefusal {
  status: 403 | 429 | 503;
  reason: RefusalReason;
  message: string;
  headers: Record<string, string>;
}

/**
 * Cluster mode: connection counts summed over the live nodes (src/cluster/cluster-counters.ts),
 * asked after this node's own counts have admitted a handshake.
 */
export interface SharedCounts {
  /** One place in each field if each is under its cap: -1 taken, else the index of the full field; undefined when it cannot be asked (Redis down). */
  take(fields: readonly string[], caps: readonly number[]): Promise<number | undefined>;
  /** Gives back the places a `take` took. */
  give(fields: readonly string[]): void;
  /** This node's counts by field (HandshakeLimits.snapshot), for rewriting them after an outage. */
  attach(local: () => ReadonlyMap<string, number>): void;
}

/** Seconds a client refused for a connection cap is asked to wait (Retry-After): long enough for a reconnect loop to back off. */
export const CAP_RETRY_AFTER_S = 10;

/**
 * The limits a WebSocket handshake meets before the upgrade, in every mode: its Origin, then the
 * connection caps (all connections, then per client address; per user once the token is known).
 * An admitted handshake holds its place in each count until its TCP socket closes, whether the
 * upgrade then completes or fails (a 401 after the caps, a client gone mid-handshake).
 */
export class HandshakeLimits {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly byUser = new Map<string, number>();

  constructor(private readonly settings: HandshakeLimitSettings) {}

  /** Origin and the address and global caps; resolves the client address first (TRUST_PROXY), for every later check. */
  admit(request: IncomingMessage): LimitRefusal | undefined {
    const address = resolveHandshakeAddress(request, this.settings.trust);
    if (!originAllowed(request.headers.origin, request.headers.host, this.settings.allowedOrigins)) {
      return { status: 403, reason: 'origin', message: 'This origin may not open a WebSocket here (ALLOWED_ORIGINS)', headers: {} };
    }
    if (this.total >= this.settings.maxTotal) return CAP_REFUSALS.server_full();
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (fromAddress >= this.settings.maxPerAddress) return CAP_REFUSALS.address_limit();
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    request.socket.once('close', () => {
      this.total--;
      release(this.byAddress, address);
    });
    return undefined;
  }

  /** jwt mode, once the token is verified: the per-user cap. */
  admitUser(request: IncomingMessage, userId: string): LimitRefusal | undefined {
    const count = this.byUser.get(userId) ?? 0;
    if (count >= this.settings.maxPerUser) return CAP_REFUSALS.user_limit();
    this.byUser.set(userId, count + 1);
    request.socket.once('close', () => release(this.byUser, userId));
    return undefined;
  }

  /** This node's counts by the fields SharedCounts uses: `total`, `a:<address>`, `u:<userId>`. */
  snapshot(): Map<string, number> {
    const counts = new Map<string, number>([['total', this.total]]);
    for (const [address, n] of this.byAddress) counts.set(`a:${address}`, n);
    for (const [userId, n] of this.byUser) counts.set(`u:${userId}`, n);
    return counts;
  }

  /** Connections counted now (admitted handshakes included), for tests and the shutdown path. */
  get connections(): number {
    return this.total;
  }
}

/** The refusals of the connection caps, on this node or (cluster mode) across the nodes. */
export const CAP_REFUSALS = {
  server_full: (): LimitRefusal => ({ status: 503, reason: 'server_full', message: 'The server has as many connections as it takes (MAX_CONNECTIONS); try again later', headers: retryAfter() }),
  address_limit: (): LimitRefusal => ({ status: 429, reason: 'address_limit', message: 'Too many connections from this address (MAX_CONNECTIONS_PER_IP)', headers: retryAfter() }),
  user_limit: (): LimitRefusal => ({ status: 429, reason: 'user_limit', message: 'Too many connections for this user (MAX_CONNECTIONS_PER_USER)', headers: retryAfter() }),
} as const;

function retryAfter(): Record<string, string> {
  return { 'Retry-After': String(CAP_RETRY_AFTER_S) };
}

function release(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
}

/**
 * Cross-site WebSocket hijacking: browsers send `Origin` on every WebSocket handshake and let any
 * page open one, so the server decides. Allowed: no Origin at all (servers, CLIs, mobile apps send
 * none; a browser always does), ALLOWED_ORIGINS, and the server's own origin, which is the one
 * whose host and port are the request's Host. The scheme is not compared: behind a TLS-terminating
 * proxy the server cannot tell http from https, and the Host is what the browser connected to. A
 * Host without a port matches an Origin without one (each its scheme's default, as browsers write
 * both); a Host with a port matches an Origin with that port, written or the scheme's default
 * (`Host: chat.example.com:443` and `Origin: https://chat.example.com`). `Origin: null` (sandboxed
 * frames, file: pages) is foreign unless ALLOWED_ORIGINS is `*`.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: AllowedOrigins): boolean {
  if (origin === undefined || allowed.any) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === 'null') return false;
  if (allowed.origins.has(url.origin)) return true;
  const parsed = host === undefined ? null : /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(host);
  if (!parsed || parsed[1].toLowerCase() !== url.hostname) return false;
  const hostPort = parsed[2];
  if (hostPort === undefined) return url.port === '';
  return (url.port || DEFAULT_PORTS[url.protocol]) === String(Number(hostPort));
}

const DEFAULT_PORTS: Record<string, string | undefined> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { AuthFailure } from '../auth/auth-failure';
import type { AuthService } from '../auth/auth.service';
import type { ModerationService } from '../chat/moderation.service';
import { banRefusal } from '../chat/sanctions';
import type { ClusterBus } from '../hub/cluster-bus';
import type { ErrorReporter } from '../hub/error-reporter';
import type { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import { defaultErrorMessage, ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import type { ServerFrame } from '../protocol/frames';
import type { AuditEntry } from '../store/audit-store.service';
import { parseFrame } from './frame-parser';
import { authenticateHandshake, chooseProtocol, handshakeAddress, handshakeIdentity, handshakeIsAdmin, noteAnonymousAdmin } from './handshake';
import { CAP_REFUSALS, HandshakeLimits, type HandshakeLimitSettings, type LimitRefusal, type SharedCounts } from './handshake-limits';
import { FrameVerdict, RateLimits, type FrameLimit, type RateLimitSettings } from './rate-limit';
import { RateShare } from './rate-share';
import { sessionOf } from './ws-transport';

export interface ChatWsOptions {
  maxPayloadBytes: number;
  heartbeatIntervalMs: number;
  errors: ErrorReporter;
  auth: AuthService;
  /** Abuse limits (docs/security.md#abuse-limits). */
  limits: {
    handshake: HandshakeLimitSettings;
    rate: RateLimitSettings;
    /** How long a handshake may wait for its token to be verified before the socket is closed. */
    handshakeTimeoutMs: number;
    /** Cluster mode: the connection caps counted across the nodes. */
    shared?: SharedCounts;
    /** Cluster mode: jwt mode's per-user rate limit is shared through it (RateShare). */
    bus?: ClusterBus;
  };
  metrics: ChatMetrics;
  /** Where failed sign-ins are written (AuditStore.note). */
  audit: { note(entry: AuditEntry): void };
  /** Bans in force (issue 13): a banned user's or address's handshake is refused with 403. */
  bans?: Pick<ModerationService, 'bannedHandshake'>;
}

type VerifyDone = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/** A gateway handler as Nest binds it to one client: (payload, event) -> the reply, if any. */
type HandlerCallback = (data: unknown, event: string) => Promise<ServerFrame | undefined>;

/**
 * The protocol edge. Replaces platform-ws's parsing and routing (which drops bad frames
 * silently) with our own: every frame either reaches a @SubscribeMessage handler or gets
 * an error frame. Also sets the `ws` limits and runs the heartbeat.
 */
export class ChatWsAdapter extends WsAdapter {
  private readonly log = new Logger('ChatSocket');
  private readonly heartbeats = new Map<WebSocketServer, NodeJS.Timeout>();
  private indexCache: Map<string, number> | null = null;
  /** Per client, its handlers' callbacks in `indexCache` order (gone with the client). */
  private readonly callbacks = new WeakMap<WebSocket, HandlerCallback[]>();
  /** Frames of clients still in their connect sequence, in arrival order. */
  private readonly waiting = new Map<WebSocket, Array<[RawData, boolean]>>();
  /** The one `message` listener of every socket (the socket is `this`). */
  private readonly onMessage: (this: WebSocket, raw: RawData, isBinary: boolean) => void;
  private readonly onSocketError = (err: Error): void => this.log.debug(`socket error: ${err.message}`);
  private readonly handshakeLimits: HandshakeLimits;
  private readonly rateLimits: RateLimits;
  private rateShare?: RateShare;
  /** Each socket's rate limit, from its connection until it is gone. */
  private readonly frameLimits = new WeakMap<WebSocket, FrameLimit>();

  constructor(
    app: INestApplicationContext,
    private readonly settings: ChatWsOptions,
  ) {
    super(app);
    this.handshakeLimits = new HandshakeLimits(settings.limits.handshake);
    const { shared, bus } = settings.limits;
    const shareRates = bus !== undefined && bus.clustered && settings.auth.required;
    this.rateLimits = new RateLimits(settings.limits.rate, shareRates);
    if (shareRates) this.rateShare = new RateShare(bus, this.rateLimits);
    shared?.attach(() => this.handshakeLimits.snapshot());
    const receive = this.receive.bind(this);
    this.onMessage = function (this: WebSocket, raw: RawData, isBinary: boolean) {
      receive(this, raw, isBinary);
    };
  }

  override create(port: number, options: Record<string, unknown> = {}): WebSocketServer {
    const server = super.create(port, {
      ...options,
      maxPayload: this.settings.maxPayloadBytes,
      // A message may come in at most this many fragments / buffered chunks; beyond is abuse.
      maxFragments: 1024,
      maxBufferedChunks: 4096,
      maxPendingAutoPongs: 16,
      perMessageDeflate: false,
      closeTimeout: 5000,
      // Two parameters: ws then lets it answer with a status, headers and body of its choosing.
      verifyClient: (info: { req: IncomingMessage }, done: VerifyDone) => {
        const problem = handshakeProblem(info.req);
        if (problem !== undefined) {
          this.settings.metrics.connectionsRefused.inc({ reason: 'bad_handshake' });
          return done(false, 400, problem);
        }
        // Abuse limits: Origin, then the connection caps (and the client address, TRUST_PROXY).
        const limited = this.handshakeLimits.admit(info.req);
        if (limited) return this.refuseForLimit(info.req, limited, done);
        if (!this.settings.auth.required && this.settings.limits.shared === undefined) {
          noteAnonymousAdmin(info.req, this.settings.auth);
          if (this.refuseBanned(info.req, undefined, done)) return;
          return done(true);
        }
        void this.admitAsync(info.req, this.withDeadline(info.req, done));
      },
      handleProtocols: chooseProtocol,
    }) as WebSocketServer;
    // Before Nest's own connection listener: the rate limit is in place before any frame.
    server.on('connection', (ws: WebSocket, req: IncomingMessage) => this.openFrameLimit(ws, req));
    this.startHeartbeat(server);
    return server;
  }

  /**
   * The rest of a handshake that waits: for the cluster's connection counts (cluster mode), for its
   * token to be verified (jwt mode). A ban first (403 says more than a cap's 429), then the per-user
   * cap, once the user is known.
   */
  private async admitAsync(req: IncomingMessage, finish: VerifyDone): Promise<void> {
    try {
      const s = this.settings.limits.handshake;
      const overCluster = await this.takeShared(req, ['total', `a:${handshakeAddress(req)}`], [s.maxTotal, s.maxPerAddress]);
      if (overCluster) return this.refuseForLimit(req, overCluster, finish);
      let userId: string | undefined;
      if (this.settings.auth.required) userId = (await authenticateHandshake(req, this.settings.auth)).userId;
      else noteAnonymousAdmin(req, this.settings.auth);
      if (this.refuseBanned(req, userId, finish)) return;
      if (userId !== undefined) {
        const overUser = this.handshakeLimits.admitUser(req, userId) ?? (await this.takeShared(req, [`u:${userId}`], [s.maxPerUser]));
        if (overUser) return this.refuseForLimit(req, overUser, finish);
      }
      finish(true);
    } catch (error) {
      this.refuse(req, error, finish);
    }
  }

  /**
   * Cluster mode: one place in each field across the nodes, held until the socket closes; the
   * refusal of the first full field. Nothing (this node's counts decide) on one node or while Redis is down.
   */
  private async takeShared(req: IncomingMessage, fields: string[], caps: number[]): Promise<LimitRefusal | undefined> {
    const shared = this.settings.limits.shared;
    if (shared === undefined) return undefined;
    const full = await shared.take(fields, caps);
    if (full === undefined) return undefined;
    if (full >= 0) return CAP_REFUSALS[fields[full] === 'total' ? 'server_full' : fields[full].startsWith('a:') ? 'address_limit' : 'user_limit']();
    if (req.socket.destroyed) shared.give(fields);
    else req.socket.once('close', () => shared.give(fields));
    return undefined;
  }

  /** A refusal by an abuse limit: its status, Retry-After where it has one, and a JSON body shaped like the 401s'. */
  private refuseForLimit(req: IncomingMessage, refusal: LimitRefusal, done: VerifyDone): void {
    this.settings.metrics.connectionsRefused.inc({ reason: refusal.reason });
    this.log.log({ msg: 'handshake refused', reason: refusal.reason, remoteAddress: handshakeAddress(req) });
    const body = { statusCode: refusal.status, error: STATUS_TEXT[refusal.status], reason: refusal.reason, message: refusal.message };
    done(false, refusal.status, JSON.stringify(body), { ...JSON_CONTENT, ...refusal.headers });
  }

  /**
   * A handshake waiting for its token to be verified (a JWKS fetch) is closed after
   * HANDSHAKE_TIMEOUT_MS, so slow handshakes cannot pile up; a late verdict is then ignored.
   */
  private withDeadline(req: IncomingMessage, done: VerifyDone): VerifyDone {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      this.settings.metrics.connectionsRefused.inc({ reason: 'handshake_timeout' });
      this.log.log({ msg: 'handshake timed out', remoteAddress: handshakeAddress(req) });
      req.socket.destroy();
    }, this.settings.limits.handshakeTimeoutMs);
    return (...args) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(...args);
    };
  }

  private openFrameLimit(ws: WebSocket, req: IncomingMessage): void {
    const userId = handshakeIdentity(req)?.userId;
    const limit = this.rateLimits.open(userId, Date.now());
    this.frameLimits.set(ws, limit);
    ws.once('close', () => this.rateLimits.release(limit, userId));
  }

  /**
   * A frame over the rate limit: never processed. The client hears RATE_LIMITED at most once per
   * NOTICE_INTERVAL_MS, the connection is logged and counted once, and one that floods on for
   * FLOOD_CLOSE_MS is closed with 1008.
   */
  private overLimit(client: WebSocket, limit: FrameLimit, verdict: FrameVerdict): void {
    const metrics = this.settings.metrics;
    metrics.rateLimitedFrames.inc();
    if (verdict === FrameVerdict.Close) {
      metrics.floodCloses.inc();
      this.log.log({ msg: 'connection closed for flooding', remoteAddress: sessionOf(client)?.remoteAddress });
      // Read again, so that the client's answer to the close frame can be seen.
      if (client.isPaused) client.resume();
      client.close(1008, 'Rate limit exceeded');
      return;
    }
    this.holdBack(client, limit);
    if (verdict === FrameVerdict.Drop) return;
    const session = sessionOf(client);
    if (!limit.limited) {
      limit.limited = true;
      metrics.rateLimitedConnections.inc();
      this.log.log({ msg: 'connection rate limited', remoteAddress: session?.remoteAddress });
    }
    metrics.errors.inc({ code: ErrorCode.RATE_LIMITED });
    const code = ErrorCode.RATE_LIMITED;
    session?.send({ type: 'error', code, message: defaultErrorMessage(code), retryAfterMs: limit.bucket.retryAfterMs() });
  }

  /** Stops reading a connection over its limit for a while (FrameLimit.nextPauseMs): TCP pushes back on the sender. */
  private holdBack(client: WebSocket, limit: FrameLimit): void {
    if (client.isPaused || client.readyState !== client.OPEN) return;
    client.pause();
    const timer = setTimeout(() => {
      if (client.readyState === client.OPEN) client.resume();
    }, limit.nextPauseMs(Date.now()));
    timer.unref();
  }

  /** A handshake whose token was not accepted: 401 (or 403, 503) with a JSON body, before any upgrade. */
  private refuse(req: IncomingMessage, error: unknown, done: VerifyDone): void {
    const remoteAddress = handshakeAddress(req);
    if (!(error instanceof AuthFailure)) {
      this.log.error({ msg: 'handshake authentication failed', remoteAddress, err: error });
      return done(false, 500, JSON.stringify({ statusCode: 500, error: 'Internal Server Error', message: 'Internal error' }), JSON_CONTENT);
    }
    this.settings.metrics.connectionsRefused.inc({ reason: 'unauthorized' });
    this.log.log({ msg: 'handshake refused', reason: error.reason, remoteAddress });
    this.settings.audit.note({ actor: null, action: 'auth_failed', reason: error.reason, address: remoteAddress });
    done(false, error.status, JSON.stringify(error.body), { ...JSON_CONTENT, ...error.headers });
  }

  /**
   * A banned user's (jwt mode: checked after its token) or address's handshake: 403 with a JSON
   * body like a 401's (`reason: "banned"`, and `until`), before the upgrade. In memory, no database
   * read; the audit row is bounded by the moderation service. True when refused.
   */
  private refuseBanned(req: IncomingMessage, userId: string | undefined, done: VerifyDone): boolean {
    const ban = this.settings.bans?.bannedHandshake(handshakeAddress(req), userId, handshakeIsAdmin(req));
    if (!ban) return false;
    const refusal = banRefusal(ban);
    this.settings.metrics.connectionsRefused.inc({ reason: 'banned' });
    this.log.debug({ msg: 'handshake refused', reason: 'banned', kind: ban.kind, remoteAddress: handshakeAddress(req) });
    done(false, refusal.status, JSON.stringify(refusal.body), { ...JSON_CONTENT, ...refusal.headers });
    return true;
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[]): void {
    // Nest hands every client the same events in the same order, each callback bound to that
    // client. Only the callbacks are kept (not Nest's handler objects), and one listener function
    // and one event -> index map serve every connection: memory per idle client is what counts.
    this.eventIndex(handlers);
    this.callbacks.set(client, handlers.map((h) => h.callback as HandlerCallback));
    client.on('message', this.onMessage);
  }

  /** Frames sent before the connect sequence (welcome, history, join) has finished are handled right after it, in order. */
  private receive(client: WebSocket, raw: RawData, isBinary: boolean): void {
    // Abuse limits: every frame counts, garbage and binary included, before it is looked at.
    const limit = this.frameLimits.get(client);
    if (limit !== undefined) {
      const verdict = limit.check(Date.now());
      if (verdict !== FrameVerdict.Take) return this.overLimit(client, limit, verdict);
    }
    const queue = this.waiting.get(client);
    if (queue) {
      queue.push([raw, isBinary]);
      return;
    }
    // A client's frames wait (in order) until its connect sequence is over.
    const gate = sessionOf(client)?.whenLive();
    if (!gate) {
      return this.dispatch(client, raw, isBinary);
    }
    const held: Array<[RawData, boolean]> = [[raw, isBinary]];
    this.waiting.set(client, held);
    void gate.then(() => {
      this.waiting.delete(client);
      if (client.readyState !== client.OPEN) return;
      for (const [r, b] of held) this.dispatch(client, r, b);
    });
  }

  private dispatch(client: WebSocket, raw: RawData, isBinary: boolean): void {
    const session = sessionOf(client);
    if (!session) return;
    const frame = parseFrame(raw, isBinary);
    if (!frame.ok) {
      return this.settings.errors.send(session, toErrorFrame(new ChatException(frame.code, frame.message)));
    }
    const at = this.indexCache?.get(frame.event);
    const callback = at === undefined ? undefined : this.callbacks.get(client)?.[at];
    if (!callback) {
      const event = frame.event.length <= 64 ? frame.event : undefined;
      const unknown = new ChatException(ErrorCode.UNKNOWN_EVENT, `Unknown event "${event ?? '…'}"`);
      return this.settings.errors.send(session, toErrorFrame(unknown, event));
    }
    // Handler errors are turned into error frames by the gateway's exception filter.
    callback(frame.data, frame.event).then(
      (result) => result && session.send(result),
      (error: unknown) => this.log.error(error),
    );
  }

  private eventIndex(handlers: MessageMappingProperties[]): void {
    const cached = this.indexCache;
    if (cached && cached.size === handlers.length && handlers.every((h, i) => cached.get(h.message as string) === i)) {
      return;
    }
    this.indexCache = new Map(handlers.map((h, i) => [h.message as string, i]));
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    // Client-caused socket errors (oversize frame -> 1009, bad UTF-8 -> 1007) close that
    // socket only; they are routine on a public port, so they are not logged as errors.
    server.on('connection', (ws: WebSocket) => ws.on('error', this.onSocketError));
    server.on('error', (err) => this.log.error(err));
    return server;
  }

  override async close(server: WebSocketServer): Promise<void> {
    this.rateShare?.stop();
    clearInterval(this.heartbeats.get(server));
    this.heartbeats.delete(server);
    await super.close(server);
  }

  /** Pings every interval; a socket that did not answer the previous ping is terminated. */
  private startHeartbeat(server: WebSocketServer): void {
    const alive = new WeakSet<WebSocket>();
    function onPong(this: WebSocket): void {
      alive.add(this);
    }
    server.on('connection', (ws: WebSocket) => {
      alive.add(ws);
      ws.on('pong', onPong);
    });
    const timer = setInterval(() => {
      for (const ws of server.clients) {
        if (!alive.has(ws)) {
          ws.terminate();
          continue;
        }
        alive.delete(ws);
        ws.ping();
      }
    }, this.settings.heartbeatIntervalMs);
    timer.unref();
    this.heartbeats.set(server, timer);
  }
}

const JSON_CONTENT = { 'Content-Type': 'application/json; charset=utf-8' };
const STATUS_TEXT = { 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' } as const;

/**
 * What RFC 6455 §4.1 requires of an opening handshake that `ws` does not check: HTTP/1.1 or later
 * and a Host header (§4.2.1 has the server answer anything else with 400 before upgrading).
 */
function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    return 'WebSocket handshakes need HTTP/1.1 or later';
  }
  if (!req.headers.host) return 'WebSocket handshakes need a Host header';
  return undefined;
}

import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { destination, stdTimeFunctions, type DestinationStream } from 'pino';
import type { Options as HttpOptions } from 'pino-http';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from './env.validation';
import { clientAddress, type ProxyTrust } from './trust-proxy';

const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/** The levels at which `pino-http` writes its one line per request (it logs at `info`). */
const REQUEST_LOG_LEVELS: readonly LogLevel[] = ['info', 'debug', 'trace'];

/** Nest's own start-up chatter (modules loaded, each route and gateway event mapped), left out of pretty logs. */
const BOOTSTRAP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'WebSocketsController', 'NestApplication']);

/** Said by the message already, or only noise on a terminal: `ready` and `shutdown` carry the banner's and the shutdown line's figures. */
const PRETTY_HIDDEN_KEYS = 'pid,hostname,context,req,res,responseTime,ready,shutdown';

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** TRUST_PROXY: when set, a request line's remoteAddress is the client behind the proxy, as request.ip and the handshake's address. */
  trust?: ProxyTrust;
}

/** A route for MiddlewareConsumer.forRoutes (Nest's RouteInfo, which its package index does not export). */
export interface RequestRoute {
  path: string;
  method: RequestMethod;
}

export interface LoggerOptions {
  /** pino-http's options; the logger it builds is also the application's. */
  http: HttpOptions;
  /** Where lines go: stdout as JSON when absent. */
  stream?: DestinationStream;
  /** Routes the request logger is mounted on. */
  forRoutes: RequestRoute[];
}

/**
 * LOG_FORMAT when set; otherwise pretty for a person at a terminal (`npm start`), and JSON lines
 * in production and wherever stdout is not a terminal (containers, log collectors, tests).
 */
export function resolveLogFormat(configured: LogFormat | undefined, nodeEnv: string | undefined, stdoutIsTty: boolean): LogFormat {
  if (configured) return configured;
  return nodeEnv !== 'production' && stdoutIsTty ? 'pretty' : 'json';
}

/**
 * JSON: one object per line with level names and ISO time, and one line per HTTP request at
 * `info` and below (probes and scrapes excluded). Pretty: one short line each, with the request
 * log limited to the REST API (no line per static file of the web client or Swagger UI).
 */
export function loggerOptions({ level, format, trust }: LoggerSettings): LoggerOptions {
  const pretty = format === 'pretty';
  const quiet = pretty ? (path: string) => !isApiPath(path) : (path: string) => QUIET_PATHS.includes(path);
  const http: HttpOptions = {
    level,
    // `query` is the parsed query string Fastify hands the request logger: its names are decoded.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]', 'req.query.access_token', 'res.headers["set-cookie"]'],
    // pino-http hands this the request as pino-std-serializers made it: only its URL is changed.
    serializers: { req: (req: SerializedRequest) => withClientAddress(typeof req.url === 'string' ? { ...req, url: redactUrl(req.url) } : req, req.raw, trust) },
    autoLogging: { ignore: (req) => quiet(pathOf(req)) },
    ...(pretty
      ? { customSuccessMessage: (req, res, ms) => `${req.method} ${redactUrl(originalUrl(req))} ${res.statusCode} ${ms} ms` }
      : { timestamp: stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } }),
  };
  return {
    http,
    ...(pretty ? { stream: prettyStdout() } : {}),
    // Above `info` no request line is written, yet the middleware would still build a child logger
    // with the serialized, redacted request and an AsyncLocalStorage scope for every request
    // (a sixth of a history request's CPU). Mounted on no route, it costs nothing; the price is that
    // the few lines logged while handling a request at those levels carry no `req`. At `info` and
    // below, every path, spelled so that @fastify/middie matches it: it reads `{/*splat}` as
    // `/{/*splat}`, which matches `/` alone.
    forRoutes: REQUEST_LOG_LEVELS.includes(level) ? [{ path: '/{*splat}', method: RequestMethod.ALL }] : [],
  };
}

/**
 * pino-pretty's formatter, called as each line is written, straight to stdout. Not its stream
 * (`build()`), which hands lines on through piped streams: a line logged just before
 * process.exit(), such as "shutdown complete", could be lost on the way.
 */
function prettyStdout(): DestinationStream {
  const format = prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', singleLine: true, ignore: PRETTY_HIDDEN_KEYS });
  const stdout = destination({ dest: 1, sync: true });
  return { write: (line: string) => stdout.write(format(line)) };
}

/**
 * Lines the application logger drops. Always Nest's "successfully started" (it comes before the
 * port is bound; the ready banner replaces it) and its copy of a failed listen (main.ts says what
 * to do about it); in pretty logs also Nest's start-up lines at `info`.
 */
export function isSuppressed(format: LogFormat, context: unknown, message: unknown, level: string): boolean {
  if (context === 'NestApplication') {
    if (message === 'Nest application successfully started') return true;
    if (level === 'error' && typeof message === 'string' && message.startsWith('Error: listen ')) return true;
  }
  return format === 'pretty' && level === 'info' && typeof context === 'string' && BOOTSTRAP_CONTEXTS.has(context);
}

/** Query parameters whose values are credentials: `access_token` (RFC 6750 §2.3) carries a JWT. */
const SECRET_PARAMETERS = new Set(['access_token']);

/**
 * `url` with the value of every credential query parameter replaced by `[Redacted]`, the name
 * compared as a server decodes it (`access%5Ftoken` too), the rest of the URL as it was.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const end = url.indexOf('#', at);
  const query = url.slice(at + 1, end === -1 ? undefined : end);
  let changed = false;
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (!SECRET_PARAMETERS.has(decodedName(name))) return part;
    changed = true;
    return `${name}=[Redacted]`;
  });
  return changed ? `${url.slice(0, at + 1)}${parts.join('&')}${end === -1 ? '' : url.slice(end)}` : url;
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

// A middleware sees `url` without the part its route matched; Fastify's middleware engine keeps the whole in `originalUrl`.
function originalUrl(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

function pathOf(req: IncomingMessage): string {
  return originalUrl(req).split('?')[0];
}

function isApiPath(path: string): boolean {
  return path.startsWith('/api/') && path !== '/api/docs' && !path.startsWith('/api/docs/') && !path.startsWith('/api/docs-');
}

/** The request as pino-std-serializers hands it to the serializer; `raw` is Node's request. */
interface SerializedRequest {
  url?: unknown;
  remoteAddress?: unknown;
  raw?: IncomingMessage;
}

/** Behind a trusted proxy (TRUST_PROXY), the address logged is the client's, not the proxy's. */
function withClientAddress(req: SerializedRequest, raw: IncomingMessage | undefined, trust: ProxyTrust | undefined): SerializedRequest {
  if (trust === undefined || raw === undefined) return req;
  return { ...req, remoteAddress: clientAddress(raw.socket.remoteAddress, raw.headers['x-forwarded-for'], trust) };
}

import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, validateSync } from 'class-validator';
import { allowedOriginsProblems } from './allowed-origins';
import { parsePublicKeyPem } from './public-key';
import { trustProxyProblems } from './trust-proxy';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const AUTH_MODES = ['anonymous', 'jwt'] as const;
/** How clients authenticate: not at all (guest nicknames), or with a JWT on every handshake and API request. */
export type AuthMode = (typeof AUTH_MODES)[number];

/** The key sources of jwt mode: exactly one of them is set there, none in anonymous mode. */
const KEY_SOURCES = ['AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_URL'] as const;
/** Settings that mean something in jwt mode only: set in anonymous mode, they are a mistake. */
const JWT_ONLY = [...KEY_SOURCES, 'AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_LOGIN_URL', 'AUTH_REFRESH_URL'] as const;
/** Never echoed in an error: they would end up in logs. AUTH_JWT_PUBLIC_KEY is public, but a page long. */
const UNPRINTED = new Set(['AUTH_JWT_SECRET', 'METRICS_TOKEN', 'ADMIN_TOKEN', 'AUTH_JWT_PUBLIC_KEY', 'DATABASE_URL', 'REDIS_URL']);
/** RFC 7518 §3.2: an HS256 key has at least as many bits as the hash, 256. */
export const MIN_SECRET_CHARS = 32;
export const MIN_METRICS_TOKEN_CHARS = 16;

/** The whole configuration surface. Nothing else reads process.env. */
export class EnvironmentVariables {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8090;

  @IsString()
  @MinLength(1)
  SQLITE_PATH = 'data/chat.sqlite';

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HEARTBEAT_INTERVAL_MS = 30_000;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  MAX_PAYLOAD_BYTES = 65_536;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Unset: pretty on a terminal outside production, JSON lines otherwise (see logger.options.ts). */
  @IsOptional()
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat | undefined = undefined;

  /** Only `production` matters here: it keeps the logs JSON even on a terminal. */
  @IsOptional()
  @IsString()
  NODE_ENV: string | undefined = undefined;

  /** Most messages replayed per room on resume; older ones are announced with a `gap` frame. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  RESUME_MAX = 1000;

  /** Rooms with more members than this get their joins and leaves coalesced into presence_diff frames. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  PRESENCE_BATCH_THRESHOLD = 100;

  /** At most one presence_diff per large room in this interval. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  PRESENCE_BATCH_MS = 1000;

  /** How long a closed connection's nickname stays reserved for its reconnect token; 0 frees it at once. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  NICK_HOLD_MS = 30_000;

  /** FULL fsyncs every group commit; NORMAL survives a process crash but not a power cut. */
  @IsOptional()
  @IsIn(['FULL', 'NORMAL'])
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL' = 'FULL';

  /**
   * NORMAL lets other processes open the database (online backups, inspection). EXCLUSIVE keeps it
   * to this process: the WAL index lives in memory, with no -shm file for another process to break.
   */
  @IsOptional()
  @IsIn(['NORMAL', 'EXCLUSIVE'])
  SQLITE_LOCKING_MODE: 'NORMAL' | 'EXCLUSIVE' = 'NORMAL';

  /**
   * How long a write (or read) waits for a lock held by another process before it fails with
   * UNAVAILABLE. The wait is asynchronous: the event loop keeps serving meanwhile.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  STORE_BUSY_TIMEOUT_MS = 5000;

  // --- Scale-out (docs/deployment.md) ---

  /**
   * `postgres://user:password@host:port/database` (or `postgresql://`): the store is PostgreSQL
   * instead of the SQLite file at SQLITE_PATH. Unset: SQLite (the default, one node).
   */
  @IsOptional()
  @IsString()
  DATABASE_URL: string | undefined = undefined;

  /** PostgreSQL schema the store's tables live in (created if missing). Only with DATABASE_URL. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  DATABASE_SCHEMA: string | undefined = undefined;

  /** `redis://` or `rediss://` URL: cluster mode, with deliveries and shared state through Redis. Unset: one node. */
  @IsOptional()
  @IsString()
  REDIS_URL: string | undefined = undefined;

  /** Prefix of every Redis key and channel of this cluster, so several clusters can share one Redis. */
  @IsString()
  @MinLength(1)
  CLUSTER_PREFIX = 'chat';

  /** Cluster mode: an instance that stops renewing its heartbeat for this long is dead; its users leave. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  INSTANCE_TTL_MS = 15_000;

  @IsIn(AUTH_MODES)
  AUTH_MODE: AuthMode = 'anonymous';

  /** HS256 shared secret (jwt mode). */
  @IsOptional()
  @IsString()
  @MinLength(MIN_SECRET_CHARS)
  AUTH_JWT_SECRET: string | undefined = undefined;

  /** PEM public key: RS256, ES256 or EdDSA by its kind (config/public-key.ts). */
  @IsOptional()
  @IsString()
  AUTH_JWT_PUBLIC_KEY: string | undefined = undefined;

  /** The identity provider's JWKS endpoint, http(s). */
  @IsOptional()
  @IsString()
  AUTH_JWKS_URL: string | undefined = undefined;

  /** When set, a token's `iss` must equal it. */
  @IsOptional()
  @IsString()
  AUTH_JWT_ISSUER: string | undefined = undefined;

  /** When set, a token's `aud` must contain one of these (comma-separated). */
  @IsOptional()
  @IsString()
  AUTH_JWT_AUDIENCE: string | undefined = undefined;

  /** The claim that holds a user's roles, an array of strings. */
  @IsString()
  @MinLength(1)
  AUTH_ROLES_CLAIM = 'roles';

  /** A static bearer token that opens GET /metrics to a scraper, in either mode. */
  @IsOptional()
  @IsString()
  @MinLength(MIN_METRICS_TOKEN_CHARS)
  METRICS_TOKEN: string | undefined = undefined;

  /**
   * A static bearer token for moderation and automation, in either mode: on a REST request or on
   * the WebSocket handshake it acts as an admin (docs/security.md). Unset: admins are the signed-in
   * users with the role `admin` (jwt mode), and anonymous mode has none.
   */
  @IsOptional()
  @IsString()
  @MinLength(MIN_METRICS_TOKEN_CHARS)
  ADMIN_TOKEN: string | undefined = undefined;

  /**
   * Retention (issue 13): messages (room messages and direct messages) older than this many days
   * are deleted by the retention job. Unset: kept forever, except in rooms an admin gave their own.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(36_500)
  RETENTION_DAYS: number | undefined = undefined;

  /** How often the retention job runs. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(604_800_000)
  RETENTION_INTERVAL_MS = 3_600_000;

  /** Where the web client sends someone without a token (jwt mode). */
  @IsOptional()
  @IsString()
  AUTH_LOGIN_URL: string | undefined = undefined;

  /** Where the web client gets a fresh token before the current one expires (jwt mode). */
  @IsOptional()
  @IsString()
  AUTH_REFRESH_URL: string | undefined = undefined;

  // --- Abuse limits (docs/security.md#abuse-limits) ---

  /** Origins besides the server's own whose pages may open a WebSocket: a comma list of origins, or `*` for any. */
  @IsOptional()
  @IsString()
  ALLOWED_ORIGINS: string | undefined = undefined;

  /** Frames per second each connection (jwt mode: each user) may send, every frame counted. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  RATE_LIMIT_PER_SEC = 20;

  /** Frames a connection (user) may send at once before the rate applies: the token bucket's size. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  RATE_LIMIT_BURST = 40;

  /** WebSocket connections per client address; more are refused with 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  MAX_CONNECTIONS_PER_IP = 500;

  /** WebSocket connections per signed-in user (jwt mode); more are refused with 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  MAX_CONNECTIONS_PER_USER = 20;

  /** WebSocket connections in all; more are refused with 503. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  MAX_CONNECTIONS = 50_000;

  /** Proxies whose X-Forwarded-For is believed: a comma list of addresses and CIDR ranges. Unset: none. */
  @IsOptional()
  @IsString()
  TRUST_PROXY: string | undefined = undefined;

  /** How long an HTTP request or WebSocket handshake may take to arrive (and, for a handshake, to be accepted). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HANDSHAKE_TIMEOUT_MS = 10_000;
}

/** ConfigModule's `validate` hook: throws one readable error listing every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const known = Object.keys(new EnvironmentVariables());
  // Empty strings mean "unset" so `PORT= npm start` falls back to the default.
  const present = Object.fromEntries(
    known.filter((key) => raw[key] !== undefined && raw[key] !== '').map((key) => [key, raw[key]]),
  );
  const config = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false });
  const problems = [
    ...errors.map((e): [string, string] => [e.property, Object.values(e.constraints ?? {}).join('; ')]),
    ...authProblems(config),
    ...trustProxyProblems(config.TRUST_PROXY).map((problem): [string, string] => ['TRUST_PROXY', problem]),
    ...allowedOriginsProblems(config.ALLOWED_ORIGINS).map((problem): [string, string] => ['ALLOWED_ORIGINS', problem]),
    ...scaleOutProblems(config),
  ];
  if (problems.length > 0) {
    const lines = problems.map(([key, problem]) => `  ${key}=${shown(key, present[key])}: ${problem}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}

/** A variable's value as an error line shows it: secrets and keys by their length only. */
function shown(key: string, value: unknown): string {
  if (UNPRINTED.has(key) && typeof value === 'string') return `(${value.length} characters, not shown)`;
  return JSON.stringify(value);
}

/** What the auth settings get wrong together: the mode and its key source, and the form of each URL and key. */
function authProblems(config: EnvironmentVariables): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const set = (key: (typeof JWT_ONLY)[number]) => config[key] !== undefined;
  if (config.AUTH_MODE === 'jwt') {
    const sources = KEY_SOURCES.filter(set);
    if (sources.length !== 1) {
      const which = sources.length === 0 ? 'none is set' : `${sources.join(' and ')} are set`;
      problems.push(['AUTH_MODE', `AUTH_MODE=jwt needs exactly one of ${KEY_SOURCES.join(', ')} (${which})`]);
    }
  } else {
    for (const key of JWT_ONLY.filter(set)) problems.push([key, `${key} is set but AUTH_MODE is ${config.AUTH_MODE}: set AUTH_MODE=jwt, or unset ${key}`]);
  }
  if (config.AUTH_JWT_PUBLIC_KEY !== undefined) {
    const parsed = parsePublicKeyPem(config.AUTH_JWT_PUBLIC_KEY);
    if (!parsed.ok) problems.push(['AUTH_JWT_PUBLIC_KEY', `AUTH_JWT_PUBLIC_KEY ${parsed.problem}`]);
  }
  for (const key of ['AUTH_JWKS_URL', 'AUTH_LOGIN_URL', 'AUTH_REFRESH_URL'] as const) {
    const value = config[key];
    if (value !== undefined && !isHttpUrl(value)) problems.push([key, `${key} must be an http:// or https:// URL`]);
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** DATABASE_URL and REDIS_URL name their engine by scheme; a schema means nothing without PostgreSQL. */
function scaleOutProblems(config: EnvironmentVariables): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (config.DATABASE_URL !== undefined && !hasScheme(config.DATABASE_URL, ['postgres:', 'postgresql:'])) {
    problems.push(['DATABASE_URL', 'DATABASE_URL must be a postgres:// or postgresql:// URL']);
  }
  if (config.DATABASE_SCHEMA !== undefined) {
    if (config.DATABASE_URL === undefined) problems.push(['DATABASE_SCHEMA', 'DATABASE_SCHEMA is set but DATABASE_URL is not: the SQLite store has no schemas']);
    else if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.DATABASE_SCHEMA)) problems.push(['DATABASE_SCHEMA', 'DATABASE_SCHEMA must be a lower-case identifier (a-z, 0-9, _), at most 63 characters']);
  }
  if (config.REDIS_URL !== undefined && !hasScheme(config.REDIS_URL, ['redis:', 'rediss:'])) {
    problems.push(['REDIS_URL', 'REDIS_URL must be a redis:// or rediss:// URL']);
  }
  // Nodes of one chat share one database; an SQLite file cannot be shared across machines, and its
  // commits are not fenced against the broker, so ids would not reach clients in order.
  if (config.REDIS_URL !== undefined && config.DATABASE_URL === undefined) {
    problems.push(['REDIS_URL', 'REDIS_URL (cluster mode) needs DATABASE_URL: the nodes share one PostgreSQL database']);
  }
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(config.CLUSTER_PREFIX)) {
    problems.push(['CLUSTER_PREFIX', 'CLUSTER_PREFIX must be 1 to 64 of A-Z, a-z, 0-9, _ . : -']);
  }
  return problems;
}

function hasScheme(value: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

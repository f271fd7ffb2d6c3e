import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, validateSync } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}=${JSON.stringify(present[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}

import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import type { LogLevel } from './env.validation';

const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/** The levels at which `pino-http` writes its one line per request (it logs at `info`). */
const REQUEST_LOG_LEVELS: readonly LogLevel[] = ['info', 'debug', 'trace'];

/**
 * JSON lines on stdout: one per HTTP request at `info` and below (probes and scrapes excluded),
 * level names, ISO time.
 */
export function loggerOptions(level: LogLevel): Params {
  return {
    pinoHttp: {
      level,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      // A middleware sees `url` without the part its route matched; Fastify's middleware engine keeps the whole in `originalUrl`.
      autoLogging: { ignore: (req) => QUIET_PATHS.includes(((req as { originalUrl?: string }).originalUrl ?? req.url ?? '').split('?')[0]) },
    },
    // Above `info` no request line is written, yet the middleware would still build a child logger
    // with the serialized, redacted request and an AsyncLocalStorage scope for every request
    // (a sixth of a history request's CPU). Mounted on no route, it costs nothing; the price is that
    // the few lines logged while handling a request at those levels carry no `req`. At `info` and
    // below, every path, spelled so that @fastify/middie matches it: it reads nestjs-pino's default
    // route (`{/*splat}`) as `/{/*splat}`, which matches `/` alone.
    forRoutes: REQUEST_LOG_LEVELS.includes(level) ? [{ path: '/{*splat}', method: RequestMethod.ALL }] : [],
  };
}

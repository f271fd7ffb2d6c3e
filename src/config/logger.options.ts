import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import type { LogLevel } from './env.validation';

const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/** JSON lines on stdout: one per HTTP request (probes and scrapes excluded), level names, ISO time. */
export function loggerOptions(level: LogLevel): Params {
  return {
    pinoHttp: {
      level,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      autoLogging: { ignore: (req) => QUIET_PATHS.includes((req.url ?? '').split('?')[0]) },
    },
  };
}

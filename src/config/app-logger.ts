import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { isSuppressed, loggerOptions, type LoggerSettings, type RequestRoute } from './logger.options';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Nest's logger, writing through pino: JSON lines or pretty ones (logger.options.ts). Lines logged
 * while an HTTP request is handled go through that request's logger, so they carry its `req`.
 * One per application (not a module-wide singleton), so apps started side by side in one process
 * keep their own level and format.
 */
export class AppLogger implements LoggerService {
  private readonly http: HttpLogger;
  private readonly requestScope = new AsyncLocalStorage<Pino>();

  constructor(
    private readonly settings: LoggerSettings,
    private readonly options = loggerOptions(settings),
  ) {
    this.http = options.stream ? pinoHttp(options.http, options.stream) : pinoHttp(options.http);
  }

  /** The request logger and the scope binding it, for the routes it is mounted on (none above `info`). */
  requestMiddleware(): { middleware: Middleware[]; forRoutes: RequestRoute[] } {
    const bind: Middleware = (req, _res, next) => this.requestScope.run((req as IncomingMessage & { log: Pino }).log, next);
    return { middleware: [this.http, bind], forRoutes: this.options.forRoutes };
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes the context last; an object message becomes the line's fields (`msg` its text). */
  private write(level: Level, message: unknown, params: unknown[]): void {
    const context = params.length > 0 ? params[params.length - 1] : undefined;
    if (isSuppressed(this.settings.format, context, message, level)) return;
    const logger = this.requestScope.getStore() ?? this.http.logger;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    const rest = params.slice(0, -1);
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message });
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...message });
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's exception handlers call error(message, stack, context).
      const err = new Error(String(message));
      err.stack = rest[0];
      logger.error({ ...fields, err });
    } else {
      logger[level](fields, String(message));
    }
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppLogger } from './app-logger';
import { loggerOptions, type LoggerSettings } from './logger.options';

function capture(settings: LoggerSettings = { level: 'info', format: 'json' }): { sut: AppLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sut = new AppLogger(settings, { ...loggerOptions(settings), stream: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { sut, lines };
}

describe(AppLogger.name, () => {
  it('writes a string message with its context, as Nest loggers call it', () => {
    const { sut, lines } = capture();
    sut.log('hello', 'ChatService');
    sut.warn('careful');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'ChatService', msg: 'hello' }),
      expect.objectContaining({ level: 'warn', msg: 'careful' }),
    ]);
    expect(lines[1]).not.toHaveProperty('context');
  });

  it('makes an object message the fields of the line', () => {
    const { sut, lines } = capture();
    sut.log({ msg: 'connection open', nickname: 'Guest1' }, 'ChatService');
    expect(lines).toEqual([expect.objectContaining({ context: 'ChatService', msg: 'connection open', nickname: 'Guest1' })]);
  });

  it("serializes errors under err, also from Nest's error(message, stack, context) contract", () => {
    const { sut, lines } = capture();
    sut.error(new Error('boom'), 'Store');
    sut.error('Unhandled', 'Error: Unhandled\n    at handler (x.ts:1:1)', 'ExceptionsHandler');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', context: 'Store', err: expect.objectContaining({ message: 'boom', type: 'Error' }) }),
      expect.objectContaining({
        level: 'error',
        context: 'ExceptionsHandler',
        err: expect.objectContaining({ message: 'Unhandled', stack: 'Error: Unhandled\n    at handler (x.ts:1:1)' }),
      }),
    ]);
  });

  it('drops the lines logger.options marks as suppressed', () => {
    const { sut, lines } = capture({ level: 'info', format: 'pretty' });
    sut.log('Mapped {/api/users, GET} route', 'RouterExplorer');
    sut.log('Nest application successfully started', 'NestApplication');
    sut.log('kept', 'ChatService');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });

  it('honours the level', () => {
    const { sut, lines } = capture({ level: 'warn', format: 'json' });
    sut.log('info is below warn', 'X');
    sut.debug('so is debug', 'X');
    sut.error('error is not', 'X');
    expect(lines.map((l) => l.msg)).toEqual(['error is not']);
  });

  it('gives lines logged while a request is handled that request, through the mounted middleware', () => {
    const { sut, lines } = capture();
    const { middleware, forRoutes } = sut.requestMiddleware();
    expect(forRoutes).toHaveLength(1);
    const req = { method: 'GET', url: '/api/users', originalUrl: '/api/users', headers: {}, socket: {} } as unknown as IncomingMessage;
    const res = { on: () => res, removeListener: () => res, getHeaders: () => ({}) } as unknown as ServerResponse;
    const [httpLogger, bind] = middleware;
    httpLogger(req, res, () => bind(req, res, () => sut.log('inside', 'UsersController')));
    sut.log('outside', 'UsersController');
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'inside', req: expect.objectContaining({ method: 'GET', url: '/api/users' }) }),
      expect.not.objectContaining({ req: expect.anything() }),
    ]);
  });
});

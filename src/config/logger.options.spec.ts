import { proxyTrust } from './trust-proxy';
import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { AutoLoggingOptions } from 'pino-http';
import { isSuppressed, loggerOptions, redactUrl, resolveLogFormat } from './logger.options';

function ignores(format: 'json' | 'pretty', url: string): boolean {
  const autoLogging = loggerOptions({ level: 'info', format }).http.autoLogging as AutoLoggingOptions;
  return autoLogging.ignore!({ url: '/', originalUrl: url } as IncomingMessage & { originalUrl: string });
}

describe(loggerOptions.name, () => {
  it.each(['info', 'debug', 'trace'] as const)('mounts the request logger on every route at %s', (level) => {
    const sut = loggerOptions({ level, format: 'json' });
    expect(sut.forRoutes).toEqual([{ path: '/{*splat}', method: RequestMethod.ALL }]);
    expect(sut.http).toMatchObject({ level });
  });

  it.each(['warn', 'error', 'fatal', 'silent'] as const)('mounts it on no route at %s, where it would log nothing', (level) => {
    const sut = loggerOptions({ level, format: 'json' });
    expect(sut.forRoutes).toEqual([]);
    expect(sut.http).toMatchObject({ level });
  });

  it('writes JSON to stdout with level names, but pretty lines through a pino-pretty stream', () => {
    const json = loggerOptions({ level: 'info', format: 'json' });
    expect(json.stream).toBeUndefined();
    expect(json.http.formatters?.level?.('warn', 40)).toEqual({ level: 'warn' });
    const pretty = loggerOptions({ level: 'info', format: 'pretty' });
    expect(pretty.stream).toBeDefined();
    expect(pretty.http.formatters).toBeUndefined();
  });

  it('in JSON leaves out only probes and scrapes; in pretty logs only the REST API', () => {
    const paths = ['/health/ready', '/metrics?x=1', '/main.js', '/', '/api/docs', '/api/docs/swagger-ui.css', '/api/messages?limit=1', '/api/users'];
    expect(paths.filter((p) => !ignores('json', p))).toEqual(['/main.js', '/', '/api/docs', '/api/docs/swagger-ui.css', '/api/messages?limit=1', '/api/users']);
    expect(paths.filter((p) => !ignores('pretty', p))).toEqual(['/api/messages?limit=1', '/api/users']);
  });
});

describe(redactUrl.name, () => {
  it.each([
    ['/?access_token=eyJhbGciOi.eyJzdWIi.c2ln', '/?access_token=[Redacted]'],
    ['/api/rooms?limit=5&access_token=abc&offset=2', '/api/rooms?limit=5&access_token=[Redacted]&offset=2'],
    ['/?access%5Ftoken=abc', '/?access%5Ftoken=[Redacted]'],
    ['/?access_token=a&access_token=b#frag', '/?access_token=[Redacted]&access_token=[Redacted]#frag'],
    ['/?access_token', '/?access_token=[Redacted]'],
  ])('redacts the token in %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each(['/', '/api/messages?room=general&limit=5', '/?token=q2V0cTx1pKJ3m0tq6yYzsr0C5bYl3xJ2sXoM7HcXh3E', '/?%zz=1'])('leaves %s as it is', (url) => {
    expect(redactUrl(url)).toBe(url);
  });

  it('is what the request serializer logs as the URL, and the token header is redacted', () => {
    const { http } = loggerOptions({ level: 'info', format: 'json' });
    const serialize = (http.serializers as { req: (req: object) => { url: string } }).req;
    expect(serialize({ method: 'GET', url: '/api/users?access_token=abc' })).toEqual({ method: 'GET', url: '/api/users?access_token=[Redacted]' });
    expect(http.redact).toEqual(expect.arrayContaining(['req.headers.authorization', 'req.headers["sec-websocket-protocol"]', 'req.query.access_token']));
  });

  it('logs the client behind a proxy listed in TRUST_PROXY as remoteAddress, and the peer otherwise', () => {
    const raw = (peer: string) => ({ socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': '203.0.113.9' } });
    const serialize = (settings: Parameters<typeof loggerOptions>[0]) => (loggerOptions(settings).http.serializers as { req: (req: object) => object }).req;
    const trusting = serialize({ level: 'info', format: 'json', trust: proxyTrust('10.0.0.0/8') });
    expect(trusting({ url: '/api/rooms', remoteAddress: '10.0.0.2', raw: raw('10.0.0.2') })).toMatchObject({ remoteAddress: '203.0.113.9' });
    expect(trusting({ url: '/api/rooms', remoteAddress: '192.0.2.1', raw: raw('192.0.2.1') })).toMatchObject({ remoteAddress: '192.0.2.1' });
    expect(serialize({ level: 'info', format: 'json' })({ url: '/', remoteAddress: '10.0.0.2', raw: raw('10.0.0.2') })).toMatchObject({ remoteAddress: '10.0.0.2' });
  });
});

describe(resolveLogFormat.name, () => {
  it.each([
    [undefined, undefined, true, 'pretty'],
    [undefined, 'development', true, 'pretty'],
    [undefined, 'production', true, 'json'],
    [undefined, undefined, false, 'json'],
    ['pretty', 'production', false, 'pretty'],
    ['json', undefined, true, 'json'],
  ] as const)('LOG_FORMAT=%s NODE_ENV=%s on a terminal: %s gives %s', (configured, nodeEnv, tty, expected) => {
    expect(resolveLogFormat(configured, nodeEnv, tty)).toBe(expected);
  });
});

describe(isSuppressed.name, () => {
  it('always drops Nest\'s "successfully started" and its copy of a listen error, nothing else it says at error', () => {
    for (const format of ['json', 'pretty'] as const) {
      expect(isSuppressed(format, 'NestApplication', 'Nest application successfully started', 'info')).toBe(true);
      expect(isSuppressed(format, 'NestApplication', 'Error: listen EADDRINUSE: address already in use :::8090', 'error')).toBe(true);
      expect(isSuppressed(format, 'NestApplication', 'Error: something else', 'error')).toBe(false);
      expect(isSuppressed(format, 'ExceptionsHandler', 'Error: listen to this', 'error')).toBe(false);
    }
  });

  it('drops Nest start-up lines at info in pretty logs only, and never our own', () => {
    expect(isSuppressed('pretty', 'RouterExplorer', 'Mapped {/api/users, GET} route', 'info')).toBe(true);
    expect(isSuppressed('pretty', 'InstanceLoader', 'AppModule dependencies initialized', 'info')).toBe(true);
    expect(isSuppressed('json', 'RouterExplorer', 'Mapped {/api/users, GET} route', 'info')).toBe(false);
    expect(isSuppressed('pretty', 'RouterExplorer', 'a warning', 'warn')).toBe(false);
    expect(isSuppressed('pretty', 'ChatService', { msg: 'connection open' }, 'info')).toBe(false);
  });
});

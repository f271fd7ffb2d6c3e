import { RequestMethod } from '@nestjs/common';
import { loggerOptions } from './logger.options';

describe(loggerOptions.name, () => {
  it.each(['info', 'debug', 'trace'] as const)('mounts the request logger on every route at %s', (level) => {
    const sut = loggerOptions(level);
    expect(sut.forRoutes).toEqual([{ path: '/{*splat}', method: RequestMethod.ALL }]);
    expect(sut.pinoHttp).toMatchObject({ level });
  });

  it.each(['warn', 'error', 'fatal', 'silent'] as const)('mounts it on no route at %s, where it would log nothing', (level) => {
    const sut = loggerOptions(level);
    expect(sut.forRoutes).toEqual([]);
    expect(sut.pinoHttp).toMatchObject({ level });
  });
});

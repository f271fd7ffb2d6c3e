import { listenFailure, readyBanner } from './app.setup';

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe(listenFailure.name, () => {
  it('names the port and PORT when the port is taken', () => {
    expect(listenFailure(errno('EADDRINUSE', 'listen EADDRINUSE: address already in use :::8090'), 8090).message).toBe(
      'Port 8090 is already in use. Stop the program using it, or set PORT to another port (PORT=0 picks a free one).',
    );
  });

  it('names the port and PORT when the port needs privileges', () => {
    expect(listenFailure(errno('EACCES', 'listen EACCES: permission denied :::80'), 80).message).toBe(
      'Port 80 needs privileges this process does not have. Set PORT to a port above 1023.',
    );
  });

  it('keeps any other cause, with the port and PORT', () => {
    expect(listenFailure(errno('EADDRNOTAVAIL', 'listen EADDRNOTAVAIL'), 8090).message).toBe('Cannot listen on port 8090 (PORT): listen EADDRNOTAVAIL');
  });
});

describe(readyBanner.name, () => {
  it('says every fact it is given, the mode included', () => {
    const info = { port: 8090, webUrl: 'http://localhost:8090/', wsUrl: 'ws://localhost:8090/', docsUrl: 'http://localhost:8090/api/docs', database: '/srv/chat.sqlite' };
    expect(readyBanner({ ...info, mode: 'jwt' })).toBe(
      'nest-chat ready on port 8090: web client http://localhost:8090/, WebSocket ws://localhost:8090/, API docs http://localhost:8090/api/docs, database /srv/chat.sqlite, mode jwt',
    );
  });
});

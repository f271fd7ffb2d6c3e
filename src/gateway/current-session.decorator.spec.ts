import type { ExecutionContext } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { FakeTransport } from '../hub/fake-transport';
import { Session } from '../hub/session';
import { currentSession } from './current-session.decorator';
import { bindSession } from './ws-transport';

const contextOf = (socket: WebSocket): ExecutionContext =>
  ({ switchToWs: () => ({ getClient: () => socket }) }) as unknown as ExecutionContext;

describe(currentSession.name, () => {
  it('is the session bound to the socket the frame came from', () => {
    const socket = {} as WebSocket;
    const session = new Session(1, new FakeTransport(), 'alice', '127.0.0.1', { inc: () => undefined });
    bindSession(socket, session);

    expect(currentSession(contextOf(socket))).toBe(session);
  });

  it('throws for a socket with no session', () => {
    expect(() => currentSession(contextOf({} as WebSocket))).toThrow('frame from a socket with no session');
  });
});

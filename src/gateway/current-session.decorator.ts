import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { WebSocket } from 'ws';
import type { Session } from '../hub/session';
import { sessionOf } from './ws-transport';

/** The hub session of the socket whose frame is being handled. */
export function currentSession(context: ExecutionContext): Session {
  const session = sessionOf(context.switchToWs().getClient<WebSocket>());
  if (!session) throw new Error('frame from a socket with no session');
  return session;
}

export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext) => currentSession(context));

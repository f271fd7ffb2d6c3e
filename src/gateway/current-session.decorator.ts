import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { sessionOf } from './ws-transport';

/** The hub session of the socket whose frame is being handled. */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const session = sessionOf(context.switchToWs().getClient<WebSocket>());
  if (!session) throw new Error('frame from a socket with no session');
  return session;
});

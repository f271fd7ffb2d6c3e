import { Catch, Injectable, type ArgumentsHost, type WsExceptionFilter } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ErrorReporter } from '../hub/error-reporter';
import { toErrorFrame } from '../protocol/error-frame';
import { sessionOf } from './ws-transport';

/** Whatever a handler throws becomes the protocol's error frame for that event. */
@Catch()
@Injectable()
export class WsProtocolExceptionFilter implements WsExceptionFilter {
  constructor(private readonly errors: ErrorReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const session = sessionOf(ws.getClient<WebSocket>());
    if (session) this.errors.send(session, toErrorFrame(exception, ws.getPattern(), ws.getData()), exception);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { encodeFrame, ErrorCode, type ErrorFrame } from './protocol';

/** The one way an error frame leaves the server: counted, logged by code (never payload), sent. */
@Injectable()
export class ErrorReporter {
  private readonly logger = new Logger('ChatErrors');

  constructor(private readonly metrics: ChatMetrics) {}

  send(client: WebSocket, frame: ErrorFrame, cause?: unknown): void {
    this.metrics.countError(frame.code);
    if (frame.code === ErrorCode.INTERNAL) {
      this.logger.error({ msg: 'error frame', code: frame.code, event: frame.event, err: cause });
    } else {
      this.logger.log({ msg: 'error frame', code: frame.code, event: frame.event });
    }
    if (client.readyState === client.OPEN) {
      client.send(encodeFrame(frame), { binary: false });
      this.metrics.delivery.frames++;
    }
  }
}

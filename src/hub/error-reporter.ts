import { Injectable, Logger } from '@nestjs/common';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ErrorCode } from '../protocol/error-code';
import type { ErrorFrame } from '../protocol/frames';
import type { Session } from './session';

/** The one way an error frame leaves the server: counted, logged by code (never payload), sent like any frame. */
@Injectable()
export class ErrorReporter {
  private readonly logger = new Logger('ChatErrors');

  constructor(private readonly metrics: ChatMetrics) {}

  send(session: Session, frame: ErrorFrame, cause?: unknown): void {
    this.metrics.errors.inc({ code: frame.code });
    if (frame.code === ErrorCode.INTERNAL) {
      this.logger.error({ msg: 'error frame', code: frame.code, event: frame.event, err: cause });
    } else {
      this.logger.log({ msg: 'error frame', code: frame.code, event: frame.event });
    }
    session.send(frame);
  }
}

import { Injectable } from '@nestjs/common';
import { encodeFrame, type ServerFrame } from '../chat/protocol';
import type { Session } from './session';

/**
 * Delivers frames to local sockets. A broadcast encodes its frame once; the per-recipient
 * work is the socket write and nothing else.
 */
@Injectable()
export class FanoutService {
  private readonly sessions = new Set<Session>();

  add(session: Session): void {
    this.sessions.add(session);
  }

  remove(session: Session): void {
    this.sessions.delete(session);
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  broadcast(frame: ServerFrame, except?: Session): Buffer {
    const data = encodeFrame(frame);
    this.deliver(data, frame.type === 'message' ? frame.id : 0, except);
    return data;
  }

  private deliver(data: Buffer, messageId: number, except?: Session): void {
    for (const session of this.sessions) {
      if (session !== except) {
        session.deliver(data, messageId);
      }
    }
  }
}

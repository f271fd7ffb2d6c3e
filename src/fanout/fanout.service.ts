import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { encodeFrame, type ServerFrame } from '../chat/protocol';
import { RoomMembersService } from '../users/room-members.service';
import type { Session } from './session';

/**
 * Delivers frames to local sockets. A broadcast encodes its frame once; the per-recipient
 * work is the socket write and nothing else.
 */
@Injectable()
export class FanoutService {
  private readonly sessions = new Map<WebSocket, Session>();

  constructor(private readonly members: RoomMembersService) {}

  add(session: Session): void {
    this.sessions.set(session.socket, session);
  }

  remove(session: Session): void {
    this.sessions.delete(session.socket);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The session of a connected socket, if it is still connected. */
  find(socket: WebSocket): Session | undefined {
    return this.sessions.get(socket);
  }

  /** The session of a socket whose frame is being handled; it must be connected. */
  sessionOf(socket: WebSocket): Session {
    const session = this.sessions.get(socket);
    if (!session) throw new Error('frame from a socket with no session');
    return session;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** To every connected client (nickname changes). */
  toAll(frame: ServerFrame): Buffer {
    const data = encodeFrame(frame);
    for (const session of this.sessions.values()) session.deliver(data);
    return data;
  }

  /** To the members of `room`, except `except`; returns the encoded frame for reuse. */
  toRoom(room: string, frame: ServerFrame, except?: Session): Buffer {
    const data = encodeFrame(frame);
    const messageId = frame.type === 'message' ? frame.id : 0;
    for (const session of this.members.members(room)) {
      if (session !== except) session.deliver(data, messageId, room);
    }
    return data;
  }

  /** To each distinct session in `recipients` (direct messages). */
  toSessions(recipients: Iterable<Session>, frame: ServerFrame): void {
    const data = encodeFrame(frame);
    for (const session of new Set(recipients)) session.deliver(data);
  }
}

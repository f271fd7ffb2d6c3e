import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { FanoutService } from '../fanout/fanout.service';
import { MessageStore } from '../messages/message-store.service';
import { DEFAULT_PAGE_SIZE } from '../messages/page-query.dto';
import { RoomMembersService } from '../users/room-members.service';
import { assertMember, historyFrame, notification } from './frames';
import type { RoomDto } from './dto/room.dto';
import { DEFAULT_ROOM, type PresenceFrame } from './protocol';

/** At most one typing indicator is relayed per user and room in this window; extras are dropped. */
export const TYPING_THROTTLE_MS = 2000;

/** Joining and leaving rooms, presence and typing indicators. */
@Injectable()
export class RoomsService {
  constructor(
    private readonly members: RoomMembersService,
    private readonly fanout: FanoutService,
    private readonly store: MessageStore,
  ) {}

  /**
   * The joiner gets the room's history and presence, then everyone in the room (joiner included)
   * the join notification. Joining a room twice does nothing. Frames of the room that arrive while
   * the history is read are held and deduplicated against it.
   */
  async join(socket: WebSocket, { room }: RoomDto): Promise<void> {
    const session = this.fanout.sessionOf(socket);
    if (!this.members.join(session, room)) return;
    session.holdRoom(room);
    let lastHistoryId: number;
    try {
      const page = await this.store.page({ room, limit: DEFAULT_PAGE_SIZE });
      if (!session.isJoining(room)) return; // left, or disconnected, meanwhile
      session.send(historyFrame(room, page));
      lastHistoryId = page.messages.at(-1)?.id ?? 0;
    } catch (error) {
      if (session.isJoining(room)) {
        session.releaseRoom(room, 0, true);
        this.members.leave(session, room);
      }
      throw error;
    }
    session.send(this.presence(room));
    session.write(this.fanout.toRoom(room, notification('join', room, session.nickname), session));
    session.releaseRoom(room, lastHistoryId);
  }

  /** The others in the room are told; the leaver stops receiving its frames. Leaving a room you are not in does nothing. */
  leave(socket: WebSocket, { room }: RoomDto): void {
    const session = this.fanout.sessionOf(socket);
    // The connect-time join of `general` is announced only once the session goes live.
    const joining = session.isJoining(room) || (!session.isLive && room === DEFAULT_ROOM);
    if (!this.members.leave(session, room)) return;
    session.releaseRoom(room, 0, true); // drop anything held for the room: the leaver gets none of it
    if (joining) return; // its join was never announced, so neither is its leave
    this.fanout.toRoom(room, notification('leave', room, session.nickname));
  }

  who(_socket: WebSocket, { room }: RoomDto): PresenceFrame {
    return this.presence(room);
  }

  typing(socket: WebSocket, { room }: RoomDto): void {
    const session = this.fanout.sessionOf(socket);
    assertMember(session, room);
    const now = Date.now();
    if (now - (session.typingAt.get(room) ?? -Infinity) < TYPING_THROTTLE_MS) return;
    session.typingAt.set(room, now);
    this.fanout.toRoom(room, { type: 'typing', room, nickname: session.nickname }, session);
  }

  private presence(room: string): PresenceFrame {
    return { type: 'presence', room, users: this.members.nicknames(room) };
  }
}

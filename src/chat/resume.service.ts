import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { WebSocket } from 'ws';
import type { EnvironmentVariables } from '../config/env.validation';
import { FanoutService } from '../fanout/fanout.service';
import type { Session } from '../fanout/session';
import { MessageStore } from '../messages/message-store.service';
import { RoomMembersService } from '../users/room-members.service';
import { notification } from './frames';
import type { ResumeDto } from './dto/resume.dto';

/**
 * Catching up from the database after a reconnect: every message of the requested rooms
 * with an id above `since`, in id order, then `resumed`. At most RESUME_MAX per room; an
 * older remainder is announced with a `gap` frame before them, never skipped silently.
 * Live frames of those rooms are held meanwhile and deduplicated against the replay.
 */
@Injectable()
export class ResumeService {
  private readonly max: number;

  constructor(
    private readonly members: RoomMembersService,
    private readonly fanout: FanoutService,
    private readonly store: MessageStore,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.max = config.get('RESUME_MAX', { infer: true });
  }

  /** The `resume` event on a live session; joins the rooms it is not in yet. */
  async resume(socket: WebSocket, { since, rooms }: ResumeDto): Promise<void> {
    const session = this.fanout.sessionOf(socket);
    const wanted = [...new Set(rooms ?? session.rooms)];
    // Rooms already being joined or resumed are left to that operation.
    const held = wanted.filter((room) => !session.isHeld(room));
    const joined = held.filter((room) => this.members.join(session, room));
    for (const room of held) session.holdRoom(room, !joined.includes(room));
    let lastIds: Map<string, number>;
    try {
      lastIds = await this.replay(session, since, wanted);
    } catch (error) {
      for (const room of joined) {
        session.releaseRoom(room, 0, true);
        this.members.leave(session, room);
      }
      for (const room of held) session.releaseRoom(room, 0);
      throw error;
    }
    if (session.isClosed) return;
    // A room left meanwhile is no longer held: nothing to announce or release for it.
    for (const room of joined) if (session.isJoining(room)) this.announceJoin(session, room);
    for (const room of held) session.releaseRoom(room, lastIds.get(room) ?? since);
  }

  /**
   * Sends gaps, the replayed messages in id order, then `resumed`. Returns each room's last
   * replayed id (or `since`), for releasing the frames held meanwhile without duplicates.
   */
  async replay(session: Session, since: number, rooms: string[]): Promise<Map<string, number>> {
    const pages = await Promise.all(rooms.map((room) => this.store.newestSince(room, since, this.max)));
    const lastIds = new Map<string, number>();
    if (session.isClosed) return lastIds;
    rooms.forEach((room, i) => {
      const { messages, hasMore } = pages[i];
      if (hasMore) session.send({ type: 'gap', room, afterId: since, beforeId: messages[0].id });
      lastIds.set(room, messages.at(-1)?.id ?? since);
    });
    const replayed = pages.flatMap((page) => page.messages).sort((a, b) => a.id - b.id);
    for (const message of replayed) session.send(message);
    session.send({ type: 'resumed', lastId: replayed.at(-1)?.id ?? since });
    return lastIds;
  }

  private announceJoin(session: Session, room: string): void {
    session.write(this.fanout.toRoom(room, notification('join', room, session.nickname), session));
  }
}

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { ErrorReporter } from '../hub/error-reporter';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import type { ResumeDto } from '../protocol/dto/resume.dto';
import { toErrorFrame } from '../protocol/error-frame';
import { messageFrame, type ServerFrame } from '../protocol/frames';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';

/**
 * Catching up from the database after a reconnect: every message of the requested rooms
 * with an id above `since`, in id order, then `resumed`. At most RESUME_MAX per room; an
 * older remainder is announced with a `gap` frame before them, never skipped silently.
 * Live frames of those rooms are held meanwhile and deduplicated against the replay, which
 * is paced by how fast the client reads.
 */
@Injectable()
export class ResumeService {
  private readonly max: number;

  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly errors: ErrorReporter,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.max = config.get('RESUME_MAX', { infer: true });
  }

  /** The `resume` event on a live session; joins the rooms it is not in yet. */
  resume(session: Session, { since, rooms }: ResumeDto): Promise<void> {
    return this.hub.resume(session, rooms ?? [...this.hub.roomsOf(session)], (wanted) => this.replay(session, since, wanted), since);
  }

  /**
   * `?since=&rooms=` on the connection URL: the session is connecting, so everything is held
   * already. Replays its rooms, or in jwt mode (where a connection is in all its user's rooms)
   * the `rooms` asked for.
   */
  async replayOnConnect(session: Session, { since }: ResumeDto, rooms?: readonly string[]): Promise<void> {
    let lastIds: ReadonlyMap<string, number> | undefined;
    try {
      lastIds = await this.replay(session, since, rooms ? [...new Set(rooms)] : [...this.hub.roomsOf(session)]);
    } catch (error) {
      if (session.isClosed) return;
      this.errors.send(session, toErrorFrame(StoreUnavailableError.from(error), 'resume'), error);
    }
    this.hub.goLive(session, lastIds);
  }

  /**
   * Sends gaps, the replayed messages in id order, then `resumed`. Returns each room's last
   * replayed id (or `since`), for releasing the frames held meanwhile without duplicates.
   */
  private async replay(session: Session, since: number, rooms: string[]): Promise<Map<string, number>> {
    const pages = await Promise.all(rooms.map((room) => this.store.newestSince(room, since, this.max)));
    const lastIds = new Map<string, number>();
    if (session.isClosed) return lastIds;
    const frames: ServerFrame[] = [];
    rooms.forEach((room, i) => {
      const { messages, hasMore } = pages[i];
      if (hasMore) frames.push({ type: 'gap', room, afterId: since, beforeId: messages[0].id });
      lastIds.set(room, messages.at(-1)?.id ?? since);
    });
    const replayed = pages.flatMap((page) => page.messages).sort((a, b) => a.id - b.id);
    for (const message of replayed) frames.push(messageFrame(message));
    frames.push({ type: 'resumed', lastId: replayed.at(-1)?.id ?? since });
    await session.sendPaced(frames);
    return lastIds;
  }
}

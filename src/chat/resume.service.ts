import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { DIRECT_HOLD } from '../hub/direct-hold';
import { ErrorReporter } from '../hub/error-reporter';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import type { ResumeDto } from '../protocol/dto/resume.dto';
import { toErrorFrame } from '../protocol/error-frame';
import { directFrame, messageFrame, type DirectMessageRecord, type MessageRecord, type ServerFrame } from '../protocol/frames';
import { MessageChanges, type MessageChange } from '../store/message-changes.service';
import { DirectMessageStore, type DirectPage } from '../store/direct-message-store.service';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { RetentionStore } from '../store/retention-store.service';

/**
 * Catching up from the database after a reconnect: every message of the requested rooms
 * with an id above `since`, in id order, then `resumed`. At most RESUME_MAX per room; an
 * older remainder is announced with a `gap` frame before them, never skipped silently.
 * Live frames of those rooms are held meanwhile and deduplicated against the replay, which
 * is paced by how fast the client reads. On a signed-in connection (jwt mode) the direct
 * messages to or from its user above `since` are replayed with them, merged in id order
 * (at most RESUME_MAX, an older remainder announced by a `gap` with `direct: true`), its live
 * `direct` frames held and deduplicated the same way. Edits and deletions of messages the client
 * had (id <= since) that it missed come first, as message_edited / message_deleted frames (see
 * MessageChanges.changesSince): idempotent, so one it had already seen does no harm.
 * Messages deleted by retention above
 * `since` are announced by a `gap` too (RetentionStore's marks: the highest id it deleted).
 */
@Injectable()
export class ResumeService {
  private readonly logger = new Logger(ResumeService.name);
  private readonly max: number;

  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly errors: ErrorReporter,
    config: ConfigService<EnvironmentVariables, true>,
    private readonly dms: DirectMessageStore,
    private readonly changes: MessageChanges,
    private readonly retention: RetentionStore,
  ) {
    this.max = config.get('RESUME_MAX', { infer: true });
  }

  /** The `resume` event on a live session; joins the rooms it is not in yet. */
  async resume(session: Session, { since, rooms }: ResumeDto): Promise<void> {
    const holdsDirect = session.identity !== undefined && this.hub.holdDirect(session);
    let lastIds: ReadonlyMap<string, number> | undefined;
    const replay = async (wanted: string[]) => (lastIds = await this.replay(session, since, wanted));
    try {
      await this.hub.resume(session, rooms ?? [...this.hub.roomsOf(session)], replay, since);
    } finally {
      // As the hub releases the rooms' frames: minus what the replay had, or all of them if it failed.
      if (holdsDirect) this.hub.releaseDirect(session, lastIds === undefined ? 0 : (lastIds.get(DIRECT_HOLD) ?? since), lastIds?.get(DIRECT_HOLD) ?? 0);
    }
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
      if (session.identity) this.hub.markDirectBehind(session); // its DMs were not replayed
      this.errors.send(session, toErrorFrame(StoreUnavailableError.from(error), 'resume'), error);
    }
    this.hub.goLive(session, lastIds, lastIds === undefined ? 0 : since);
  }

  /**
   * Sends gaps, the replayed messages (and direct messages) in id order, then `resumed`. Returns
   * each room's last replayed id, and DIRECT_HOLD's, for releasing the frames held meanwhile
   * without duplicates; a room (or DIRECT_HOLD) with nothing replayed is absent: its callers drop
   * held frames up to `since` there.
   */
  private async replay(session: Session, since: number, rooms: string[]): Promise<Map<string, number>> {
    const userId = session.identity?.userId;
    const [pages, direct, changes, purged] = await Promise.all([
      Promise.all(rooms.map((room) => this.store.newestSince(room, since, this.max))),
      userId === undefined ? undefined : this.dms.dmsSince(userId, since, this.max),
      since === 0 ? [] : this.changes.changesSince(since, rooms, userId, this.max),
      this.retention.marks(rooms, userId !== undefined),
    ]);
    const lastIds = new Map<string, number>();
    if (session.isClosed) return lastIds;
    const frames: ServerFrame[] = [];
    rooms.forEach((room, i) => {
      const { messages, hasMore } = pages[i];
      const deleted = purged.rooms.get(room) ?? 0;
      // Retention deleted messages above `since`: they are missing as surely as those left out.
      if (hasMore || since < deleted) frames.push({ type: 'gap', room, afterId: since, beforeId: messages[0]?.id ?? deleted + 1 });
      if (messages.length > 0) lastIds.set(room, messages.at(-1)!.id);
    });
    if (direct) {
      if (direct.hasMore || since < purged.direct) {
        frames.push({ type: 'gap', direct: true, afterId: since, beforeId: direct.messages[0]?.id ?? purged.direct + 1 });
      }
      if (direct.messages.length > 0) lastIds.set(DIRECT_HOLD, direct.messages.at(-1)!.id);
    }
    for (const change of changes) frames.push(changeFrame(change));
    const rows: Array<MessageRecord | DirectMessageRecord> = pages.flatMap((page) => page.messages);
    const replayed = direct ? rows.concat(direct.messages) : rows;
    replayed.sort((a, b) => a.id - b.id);
    for (const row of replayed) frames.push('room' in row ? messageFrame(row) : directFrame(row));
    frames.push({ type: 'resumed', lastId: replayed.at(-1)?.id ?? since });
    await session.sendPaced(frames);
    if (userId !== undefined && direct) void this.recordDelivered(session, userId, direct);
    return lastIds;
  }

  /**
   * A replay that reached the client delivered the DMs to its user in it: the user's delivery
   * cursor moves to the newest (a `gap` told the client to page the older ones), so its next
   * connect without `?since=` does not send them again. Not awaited: the held frames need not wait
   * for it. A cursor that cannot be written only means they may be sent again; the replay stands.
   */
  private async recordDelivered(session: Session, userId: string, { messages }: DirectPage): Promise<void> {
    const newest = messages.findLast((dm) => dm.recipientId === userId);
    if (!newest || !session.isOpen) return;
    try {
      await this.dms.markDmsDelivered(userId, newest.id);
    } catch (error) {
      this.logger.warn({ msg: 'replayed direct messages not recorded as delivered', userId, err: error });
    }
  }
}

/** A change a resume replays, as the frame that announced it live (a direct message's without `room`). */
function changeFrame({ id, room, body, editedAt, deletedAt }: MessageChange): ServerFrame {
  const where = room === null ? {} : { room };
  if (deletedAt !== null || editedAt === null) return { type: 'message_deleted', id, ...where };
  return { type: 'message_edited', id, ...where, message: body, editedAt };
}

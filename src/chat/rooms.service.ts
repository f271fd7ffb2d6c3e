import { Injectable } from '@nestjs/common';
import { ErrorReporter } from '../hub/error-reporter';
import { Hub, type Snapshot } from '../hub/hub';
import type { Session } from '../hub/session';
import { ChatException } from '../protocol/chat.exception';
import type { CreateRoomDto } from '../protocol/dto/create-room.dto';
import { DEFAULT_PAGE_SIZE } from '../protocol/dto/page-query.dto';
import type { RoomDto } from '../protocol/dto/room.dto';
import type { WhoDto } from '../protocol/dto/who.dto';
import { ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import { historyFrame, type PresenceFrame } from '../protocol/frames';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { RoomDirectory } from '../store/room-directory.service';

/**
 * Joining, leaving and creating rooms, presence and typing indicators. In jwt mode membership is
 * the user's and stored: a join is stored with the history read, a leave right after it applies.
 */
@Injectable()
export class RoomsService {
  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly directory: RoomDirectory,
    private readonly errors: ErrorReporter,
  ) {}

  /** History, presence, then the join notification; frames of the room that arrive meanwhile are held and deduplicated. */
  join(session: Session, { room }: RoomDto): Promise<void> {
    const userId = session.userId;
    if (userId === undefined) return this.hub.join(session, room, () => this.snapshot(room));
    return this.hub.join(session, room, async () => {
      const [snapshot] = await Promise.all([this.snapshot(room), this.directory.addMember(room, userId)]);
      return snapshot;
    });
  }

  /**
   * Leaves at once (all of the user's connections in jwt mode), then stores it. A leave the store
   * could not take is answered UNAVAILABLE: the user is out of the room until its next first
   * connection or a restart, and back in after that unless it leaves again.
   */
  leave(session: Session, { room }: RoomDto): void {
    const userId = session.userId;
    const wasIn = this.hub.roomsOf(session).has(room);
    this.hub.leave(session, room);
    if (userId === undefined || !wasIn) return;
    this.directory.removeMember(room, userId).catch((error: unknown) => {
      const failure = new ChatException(ErrorCode.UNAVAILABLE, `You left "${room}" here, but the store did not record it; send leave again`);
      this.errors.send(session, toErrorFrame(failure, 'leave'), error);
    });
  }

  /** A room's members, a page at a time: any public room, a private one for its members only (`asker`). */
  who({ room, offset, limit }: WhoDto, asker?: Session): PresenceFrame {
    this.hub.assertMayRead(asker?.userId, room);
    return this.hub.presence(room, offset, limit);
  }

  typing(session: Session, { room }: RoomDto): void {
    this.hub.typing(session, room);
  }

  /**
   * `create_room`: stores the room with the sender as owner (and, signed in, its first member),
   * then joins it like a `join`. ROOM_EXISTS when it has members or messages, or was created.
   */
  async create(session: Session, { room, visibility }: CreateRoomDto): Promise<void> {
    const undo = this.hub.claimRoom(session, room, visibility);
    let created: 'created' | 'exists';
    try {
      created = await this.directory.createRoom({ name: room, visibility, ownerId: session.userId ?? null });
    } catch (error) {
      undo();
      throw StoreUnavailableError.from(error);
    }
    if (created === 'exists') {
      undo();
      throw new ChatException(ErrorCode.ROOM_EXISTS, `Room "${room}" exists already`);
    }
    await this.join(session, { room });
  }

  /** The room's last page of history, as a join or an invitation sends it. */
  async snapshot(room: string): Promise<Snapshot> {
    const page = await this.store.page({ room, limit: DEFAULT_PAGE_SIZE });
    return { frames: [historyFrame(room, page.messages, page.hasMore)], lastId: page.messages.at(-1)?.id ?? 0 };
  }
}

import { Injectable } from '@nestjs/common';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { DEFAULT_PAGE_SIZE } from '../protocol/dto/page-query.dto';
import type { RoomDto } from '../protocol/dto/room.dto';
import type { WhoDto } from '../protocol/dto/who.dto';
import { historyFrame, type PresenceFrame } from '../protocol/frames';
import { MessageStore } from '../store/message-store.service';

/** Joining and leaving rooms, presence and typing indicators. */
@Injectable()
export class RoomsService {
  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
  ) {}

  /** History, presence, then the join notification; frames of the room that arrive meanwhile are held and deduplicated. */
  join(session: Session, { room }: RoomDto): Promise<void> {
    return this.hub.join(session, room, async () => {
      const page = await this.store.page({ room, limit: DEFAULT_PAGE_SIZE });
      return { frames: [historyFrame(room, page.messages, page.hasMore)], lastId: page.messages.at(-1)?.id ?? 0 };
    });
  }

  leave(session: Session, { room }: RoomDto): void {
    this.hub.leave(session, room);
  }

  /** Any room's members, a page at a time. */
  who({ room, offset, limit }: WhoDto): PresenceFrame {
    return this.hub.presence(room, offset, limit);
  }

  typing(session: Session, { room }: RoomDto): void {
    this.hub.typing(session, room);
  }
}

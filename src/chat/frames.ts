import type { Session } from '../fanout/session';
import type { MessagePage } from '../messages/message-store.service';
import { ChatException } from './chat.exception';
import { ErrorCode, type HistoryFrame, type NotificationFrame } from './protocol';

export function assertMember(session: Session, room: string): void {
  if (!session.rooms.has(room)) {
    throw new ChatException(ErrorCode.NOT_IN_ROOM, `You are not in room "${room}"; join it first`);
  }
}

export function historyFrame(room: string, page: MessagePage): HistoryFrame {
  return { type: 'history', room, messages: page.messages, hasMore: page.hasMore };
}

export function notification(event: 'join' | 'leave', room: string, nickname: string): NotificationFrame {
  return { type: 'notification', event, room, nickname, message: `${nickname} ${event === 'join' ? 'joined' : 'left'}` };
}

import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { FanoutService } from '../fanout/fanout.service';
import { Session } from '../fanout/session';
import { MessageStore, StoreUnavailableError, type MessagePage } from '../messages/message-store.service';
import { DEFAULT_PAGE_SIZE } from '../messages/page-query.dto';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { NicknamesService } from '../users/nicknames.service';
import type { HistoryQueryDto } from './dto/history-query.dto';
import type { SendMessageDto } from './dto/send-message.dto';
import type { SetNicknameDto } from './dto/set-nickname.dto';
import { DEFAULT_ROOM, type HistoryFrame } from './protocol';
import { toErrorFrame } from './ws-exception.filter';

export const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
const SHUTDOWN_GRACE_MS = 3000;

/** What happens on connect, disconnect and each inbound event; the gateway only delegates here. */
@Injectable()
export class ChatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatService.name);
  private readonly sessions = new Map<WebSocket, Session>();
  private shuttingDown = false;

  constructor(
    private readonly nicknames: NicknamesService,
    private readonly fanout: FanoutService,
    private readonly store: MessageStore,
    private readonly metrics: ChatMetrics,
  ) {}

  /** Welcome, history, then the join notification; never rejects. */
  async connect(socket: WebSocket, remoteAddress: string): Promise<void> {
    try {
      await this.open(socket, remoteAddress);
    } catch (error) {
      this.logger.error({ msg: 'connection setup failed', remoteAddress, err: error });
      socket.close(INTERNAL_ERROR, 'Internal error');
    }
  }

  private async open(socket: WebSocket, remoteAddress: string): Promise<void> {
    if (this.shuttingDown) {
      socket.close(GOING_AWAY, 'Server shutting down');
      return;
    }
    const session = new Session(socket, this.nicknames.nextGuestName(), remoteAddress, this.metrics.delivery);
    this.sessions.set(socket, session);
    this.nicknames.register(session);
    // Added before the history is read: live frames are held, then deduplicated against it.
    this.fanout.add(session);
    this.metrics.connectedClients.inc();
    this.logger.log({ msg: 'connection open', remoteAddress, nickname: session.nickname });
    session.send({
      type: 'welcome',
      nickname: session.nickname,
      message: `Welcome, ${session.nickname}`,
      users: this.nicknames.nicknames(),
      room: DEFAULT_ROOM,
    });

    let lastHistoryId = 0;
    try {
      const page = await this.store.page({ room: DEFAULT_ROOM, limit: DEFAULT_PAGE_SIZE });
      if (session.isClosed) return;
      session.send(historyFrame(DEFAULT_ROOM, page));
      lastHistoryId = page.messages.at(-1)?.id ?? 0;
    } catch (error) {
      if (session.isClosed) return;
      session.send(toErrorFrame(error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error), 'history'));
    }
    const join = this.fanout.broadcast(
      {
        type: 'notification',
        event: 'join',
        room: DEFAULT_ROOM,
        nickname: session.nickname,
        message: `${session.nickname} joined`,
      },
      session,
    );
    session.write(join);
    session.goLive(lastHistoryId);
  }

  disconnect(socket: WebSocket, code?: number): void {
    const session = this.sessions.get(socket);
    if (!session) return;
    this.sessions.delete(socket);
    const wasLive = session.isLive;
    session.markClosed();
    this.fanout.remove(session);
    this.nicknames.release(session);
    this.metrics.connectedClients.dec();
    this.logger.log({
      msg: 'connection close',
      remoteAddress: session.remoteAddress,
      nickname: session.nickname,
      code,
      connectedMs: Date.now() - session.connectedAt.getTime(),
    });
    if (wasLive && !this.shuttingDown) {
      this.fanout.broadcast({
        type: 'notification',
        event: 'leave',
        room: DEFAULT_ROOM,
        nickname: session.nickname,
        message: `${session.nickname} left`,
      });
    }
  }

  async postMessage(socket: WebSocket, dto: SendMessageDto): Promise<void> {
    const session = this.sessionOf(socket);
    this.metrics.messagesReceived.inc();
    const stored = await this.store.append({
      room: DEFAULT_ROOM,
      nickname: session.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
    });
    this.fanout.broadcast(stored);
    this.metrics.messagesBroadcast.inc();
  }

  rename(socket: WebSocket, dto: SetNicknameDto): void {
    const session = this.sessionOf(socket);
    const previous = this.nicknames.rename(session, dto.nickname);
    const frame = {
      type: 'nick_update',
      nickname: session.nickname,
      previous,
      message: `${previous} is now known as ${session.nickname}`,
    } as const;
    if (previous === session.nickname) {
      session.send(frame); // nothing changed: confirm to the sender only
    } else {
      this.fanout.broadcast(frame);
    }
  }

  async history(dto: HistoryQueryDto): Promise<HistoryFrame> {
    const page = await this.store.page({
      room: DEFAULT_ROOM,
      limit: dto.limit ?? DEFAULT_PAGE_SIZE,
      before: dto.before,
      after: dto.after,
    });
    return historyFrame(DEFAULT_ROOM, page);
  }

  /** Closes every client with 1001, then lets the store flush what it accepted. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    const closed = Array.from(this.sessions.keys(), (socket) => closeGoingAway(socket));
    await Promise.all(closed);
    await this.store.close();
  }

  private sessionOf(socket: WebSocket): Session {
    const session = this.sessions.get(socket);
    if (!session) {
      throw new Error('frame from a socket with no session');
    }
    return session;
  }
}

function historyFrame(room: string, page: MessagePage): HistoryFrame {
  return { type: 'history', room, messages: page.messages, hasMore: page.hasMore };
}

function closeGoingAway(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === socket.CLOSED) return resolve();
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close(GOING_AWAY, 'Server shutting down');
  });
}

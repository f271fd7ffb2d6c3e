import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { FanoutService } from '../fanout/fanout.service';
import { Session } from '../fanout/session';
import { MessageStore, StoreUnavailableError } from '../messages/message-store.service';
import { DEFAULT_PAGE_SIZE } from '../messages/page-query.dto';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { NicknamesService } from '../users/nicknames.service';
import { RoomMembersService } from '../users/room-members.service';
import { ChatException } from './chat.exception';
import type { DirectMessageDto } from './dto/direct-message.dto';
import type { HistoryQueryDto } from './dto/history-query.dto';
import type { SendMessageDto } from './dto/send-message.dto';
import type { SetNicknameDto } from './dto/set-nickname.dto';
import { DEFAULT_ROOM, encodeFrame, ErrorCode, type HistoryFrame } from './protocol';
import { ResumeDto } from './dto/resume.dto';
import { assertMember, historyFrame, notification } from './frames';
import { ResumeService } from './resume.service';
import { toErrorFrame } from './ws-exception.filter';
import { validatePayload } from './ws-validation.pipe';

export const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
const SHUTDOWN_GRACE_MS = 3000;

/** Connect, disconnect, messages, nicknames and history; the gateway only delegates here. */
@Injectable()
export class ChatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatService.name);
  private shuttingDown = false;

  constructor(
    private readonly nicknames: NicknamesService,
    private readonly members: RoomMembersService,
    private readonly fanout: FanoutService,
    private readonly store: MessageStore,
    private readonly metrics: ChatMetrics,
    private readonly resume: ResumeService,
  ) {}

  /**
   * Welcome, history, then the join notification; or, with `?since=&rooms=` on the URL, welcome
   * and a replay of those rooms (see ResumeService). Never rejects.
   */
  async connect(socket: WebSocket, remoteAddress: string, url = '/'): Promise<void> {
    try {
      await this.open(socket, remoteAddress, url);
    } catch (error) {
      this.logger.error({ msg: 'connection setup failed', remoteAddress, err: error });
      socket.close(INTERNAL_ERROR, 'Internal error');
    }
  }

  private async open(socket: WebSocket, remoteAddress: string, url: string): Promise<void> {
    if (this.shuttingDown) {
      socket.close(GOING_AWAY, 'Server shutting down');
      return;
    }
    let resume: ResumeDto | undefined;
    let badResume: unknown;
    try {
      resume = resumeFromUrl(url);
    } catch (error) {
      badResume = error;
    }
    const session = new Session(socket, this.nicknames.nextGuestName(), remoteAddress, this.metrics.delivery);
    this.nicknames.register(session);
    // Added before the history is read: live frames are held, then deduplicated against it.
    this.fanout.add(session);
    for (const room of resume?.rooms ?? [DEFAULT_ROOM]) this.members.join(session, room);
    this.metrics.connectedClients.inc();
    this.logger.log({ msg: 'connection open', remoteAddress, nickname: session.nickname });
    session.send({
      type: 'welcome',
      nickname: session.nickname,
      message: `Welcome, ${session.nickname}`,
      users: this.nicknames.nicknames(),
      room: DEFAULT_ROOM,
      rooms: [...session.rooms],
    });
    if (badResume !== undefined) session.send(toErrorFrame(badResume, 'resume'));
    if (resume) return this.openResumed(session, resume);

    const lastHistoryIds = new Map<string, number>();
    try {
      const page = await this.store.page({ room: DEFAULT_ROOM, limit: DEFAULT_PAGE_SIZE });
      if (session.isClosed) return;
      session.send(historyFrame(DEFAULT_ROOM, page));
      lastHistoryIds.set(DEFAULT_ROOM, page.messages.at(-1)?.id ?? 0);
    } catch (error) {
      if (session.isClosed) return;
      session.send(toErrorFrame(error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error), 'history'));
    }
    if (session.rooms.has(DEFAULT_ROOM)) {
      session.write(this.fanout.toRoom(DEFAULT_ROOM, notification('join', DEFAULT_ROOM, session.nickname), session));
    }
    session.goLive(lastHistoryIds);
  }

  private async openResumed(session: Session, { since }: ResumeDto): Promise<void> {
    let lastIds: Map<string, number> | undefined;
    try {
      lastIds = await this.resume.replay(session, since, [...session.rooms]);
    } catch (error) {
      if (session.isClosed) return;
      session.send(toErrorFrame(error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error), 'resume'));
    }
    if (session.isClosed) return;
    for (const room of session.rooms) {
      session.write(this.fanout.toRoom(room, notification('join', room, session.nickname), session));
    }
    session.goLive(lastIds);
  }

  disconnect(socket: WebSocket, code?: number): void {
    const session = this.fanout.find(socket);
    if (!session) return;
    const wasLive = session.isLive;
    const announced = [...session.rooms].filter((room) => wasLive && !session.isJoining(room));
    session.markClosed();
    this.fanout.remove(session);
    this.members.leaveAll(session);
    this.nicknames.release(session);
    this.metrics.connectedClients.dec();
    this.logger.log({
      msg: 'connection close',
      remoteAddress: session.remoteAddress,
      nickname: session.nickname,
      code,
      connectedMs: Date.now() - session.connectedAt,
    });
    if (this.shuttingDown) return;
    for (const room of announced) {
      this.fanout.toRoom(room, notification('leave', room, session.nickname));
    }
  }

  async postMessage(socket: WebSocket, dto: SendMessageDto): Promise<void> {
    const session = this.fanout.sessionOf(socket);
    const room = dto.room ?? DEFAULT_ROOM;
    assertMember(session, room);
    this.metrics.messagesReceived.inc();
    const { frame, duplicate } = await this.store.append({
      room,
      nickname: session.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
    });
    if (frame.clientMsgId !== undefined) {
      session.deliver(encodeFrame({ type: 'ack', clientMsgId: frame.clientMsgId, id: frame.id, room }));
    }
    if (duplicate) return; // a resend: acknowledged again, never broadcast twice
    this.fanout.toRoom(room, frame);
    this.metrics.messagesBroadcast.inc();
  }

  /** Stores and delivers a direct message to the sender and every connection of the recipient. */
  async postDirect(socket: WebSocket, dto: DirectMessageDto): Promise<void> {
    const session = this.fanout.sessionOf(socket);
    const recipient = this.nicknames.find(dto.to);
    if (!recipient) {
      throw new ChatException(ErrorCode.NO_SUCH_USER, `No user named "${dto.to}" is online`);
    }
    this.metrics.messagesReceived.inc();
    const { frame, duplicate } = await this.store.appendDirect({
      from: session.nickname,
      to: recipient.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
    });
    if (frame.clientMsgId !== undefined) {
      session.deliver(encodeFrame({ type: 'ack', clientMsgId: frame.clientMsgId, id: frame.id, to: frame.to }));
    }
    if (duplicate) return;
    this.fanout.toSessions([session, recipient], frame);
    this.metrics.messagesBroadcast.inc();
  }

  rename(socket: WebSocket, dto: SetNicknameDto): void {
    const session = this.fanout.sessionOf(socket);
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
      this.fanout.toAll(frame);
    }
  }

  async history(socket: WebSocket, dto: HistoryQueryDto): Promise<HistoryFrame> {
    const room = dto.room ?? DEFAULT_ROOM;
    assertMember(this.fanout.sessionOf(socket), room);
    const page = await this.store.page({ room, limit: dto.limit ?? DEFAULT_PAGE_SIZE, before: dto.before, after: dto.after });
    return historyFrame(room, page);
  }

  /** Closes every client with 1001, then lets the store flush what it accepted. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(Array.from(this.fanout.all(), (session) => closeGoingAway(session.socket)));
    await this.store.close();
  }
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

/** `?since=12&rooms=general,eng` on the connection URL; undefined when neither is given. */
function resumeFromUrl(url: string): ResumeDto | undefined {
  const query = new URL(url, 'ws://localhost').searchParams;
  const since = query.get('since');
  const rooms = query.get('rooms');
  if (since === null && rooms === null) return undefined;
  return validatePayload(ResumeDto, { since: since ?? '0', ...(rooms === null ? {} : { rooms }) });
}

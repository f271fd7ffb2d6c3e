import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { ErrorReporter } from '../hub/error-reporter';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import type { Transport } from '../hub/transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import type { DirectMessageDto } from '../protocol/dto/direct-message.dto';
import type { HistoryQueryDto } from '../protocol/dto/history-query.dto';
import { DEFAULT_PAGE_SIZE } from '../protocol/dto/page-query.dto';
import { ResumeDto } from '../protocol/dto/resume.dto';
import type { SendMessageDto } from '../protocol/dto/send-message.dto';
import { ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import { DEFAULT_ROOM, historyFrame, liveDirectFrame, liveMessageFrame, RECONNECT_TOKEN_PATTERN, type HistoryFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { validatePayload } from '../protocol/validate-payload';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { DirectMessagesService } from './direct-messages.service';
import { ModerationService } from './moderation.service';
import { ResumeService } from './resume.service';
import { SessionLifetime } from './session-lifetime.service';

export const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
/** RFC 6455's "Try Again Later": a signed-in connection whose user or rooms the store could not read. */
export const TRY_AGAIN_LATER = { code: 1013, reason: 'Store unavailable, try again later' } as const;
const SHUTDOWN_GRACE_MS = 3000;

/** Connect, disconnect, messages, direct messages and history; the gateway only delegates here. */
@Injectable()
export class ChatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatService.name);
  private shuttingDown = false;

  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly metrics: ChatMetrics,
    private readonly resumes: ResumeService,
    private readonly errors: ErrorReporter,
    private readonly lifetime: SessionLifetime,
    private readonly users: UserStore,
    private readonly directory: RoomDirectory,
    private readonly directs: DirectMessagesService,
    private readonly moderation: ModerationService,
  ) {}

  /**
   * A new connection: its session, or none when the server is shutting down (closed with 1001).
   * Its nickname is the one `?token=` holds, else a fresh guest name (see Hub.open). Then welcome,
   * history and the join notification; or, with `?since=&rooms=` on the URL, welcome and a
   * replay of those rooms (see ResumeService). The sequence never rejects. A signed-in connection
   * (`identity`, jwt mode) is named by its token's claims, ignores `?token=`, and is closed with
   * 4001 when its token expires (SessionLifetime); see startUser. `adminToken`: an anonymous
   * connection that presented ADMIN_TOKEN (Session.isAdmin).
   */
  connect(transport: Transport, remoteAddress: string, url = '/', identity?: Identity, adminToken = false): Session | undefined {
    if (this.shuttingDown) {
      void transport.close(GOING_AWAY, 'Server shutting down', SHUTDOWN_GRACE_MS);
      return undefined;
    }
    const session = this.hub.open(transport, remoteAddress, identity ? undefined : reconnectTokenFromUrl(url), identity, adminToken);
    this.lifetime.track(session);
    this.start(session, url).catch((error: unknown) => {
      this.logger.error({ msg: 'connection setup failed', remoteAddress, err: error });
      void session.close(INTERNAL_ERROR, 'Internal error', SHUTDOWN_GRACE_MS);
    });
    return session;
  }

  private async start(session: Session, url: string): Promise<void> {
    if (session.user) return this.startUser(session, url);
    let resume: ResumeDto | undefined;
    let badResume: unknown;
    try {
      resume = resumeFromUrl(url);
      if (resume?.rooms) this.hub.assertResumable(session, resume.rooms); // no private room
    } catch (error) {
      resume = undefined;
      badResume = error;
    }
    // Entered before the history is read: live frames are held, then deduplicated against it.
    this.hub.enter(session, resume?.rooms ?? [DEFAULT_ROOM]);
    this.logger.log({ msg: 'connection open', remoteAddress: session.remoteAddress, nickname: session.nickname });
    session.send(this.hub.welcome(session));
    if (badResume !== undefined) this.errors.send(session, toErrorFrame(badResume, 'resume'));
    if (resume) return this.resumes.replayOnConnect(session, resume);

    const lastIds = new Map<string, number>();
    try {
      const page = await this.store.page({ room: DEFAULT_ROOM, limit: DEFAULT_PAGE_SIZE });
      if (session.isClosed) return;
      session.send(historyFrame(DEFAULT_ROOM, page.messages, page.hasMore));
      lastIds.set(DEFAULT_ROOM, page.messages.at(-1)?.id ?? 0);
    } catch (error) {
      if (session.isClosed) return;
      this.errors.send(session, toErrorFrame(StoreUnavailableError.from(error), 'history'), error);
    }
    this.hub.goLive(session, lastIds);
  }

  /**
   * A signed-in connection (jwt mode): the sign-in is recorded and, at the user's first connection,
   * its rooms read; the connection is in all of them. Then welcome, each room's history (in the
   * order of `welcome.rooms`) and the direct messages that waited for the user
   * (DirectMessagesService); or with `?since=` a replay of the listed rooms (all by default) and of
   * the user's direct messages. Then a join notification per room. A store that cannot say who the
   * user is or where it belongs closes the connection with 1013 before the welcome.
   */
  private async startUser(session: Session, url: string): Promise<void> {
    const user = session.user!;
    const { userId } = user;
    try {
      await this.users.upsertUser({ id: userId, nickname: session.identity?.nickname ?? user.nickname, roles: session.identity?.roles ?? user.roles });
      if (this.hub.needsRooms(session)) this.hub.loadRooms(session, await this.directory.roomsOfUser(userId));
    } catch (error) {
      this.logger.warn({ msg: 'signed-in connection refused: the store is unavailable', err: error });
      void session.close(TRY_AGAIN_LATER.code, TRY_AGAIN_LATER.reason, SHUTDOWN_GRACE_MS);
      return;
    }
    if (session.isClosed) return;
    this.hub.enter(session, []);
    let resume: ResumeDto | undefined;
    let badResume: unknown;
    try {
      resume = resumeFromUrl(url);
      if (resume?.rooms) this.hub.assertResumable(session, resume.rooms);
    } catch (error) {
      resume = undefined;
      badResume = error;
    }
    this.logger.log({ msg: 'connection open', remoteAddress: session.remoteAddress, nickname: session.nickname, userId });
    session.send(this.hub.welcome(session));
    if (badResume !== undefined) this.errors.send(session, toErrorFrame(badResume, 'resume'));
    const rooms = [...this.hub.roomsOf(session)];
    if (resume) return this.resumes.replayOnConnect(session, resume, resume.rooms ?? rooms);
    const pages = await Promise.allSettled(rooms.map((room) => this.store.page({ room, limit: DEFAULT_PAGE_SIZE })));
    if (session.isClosed) return;
    const lastIds = new Map<string, number>();
    pages.forEach((page, i) => {
      if (page.status === 'rejected') return this.errors.send(session, toErrorFrame(StoreUnavailableError.from(page.reason), 'history'), page.reason);
      session.send(historyFrame(rooms[i], page.value.messages, page.value.hasMore));
      lastIds.set(rooms[i], page.value.messages.at(-1)?.id ?? 0);
    });
    await this.directs.sendUndelivered(session, lastIds);
    this.hub.goLive(session, lastIds);
  }

  disconnect(session: Session, code?: number): void {
    this.lifetime.forget(session);
    this.hub.close(session);
    const userId = session.userId;
    // The user's last connection: when it was last seen (not while shutting down, which closes everyone).
    if (userId !== undefined && !this.shuttingDown && !this.hub.isOnline(userId)) {
      this.users.touchUser(userId).catch((error: unknown) => this.logger.warn({ msg: 'last seen not recorded', err: error }));
    }
    this.logger.log({
      msg: 'connection close',
      remoteAddress: session.remoteAddress,
      nickname: session.nickname,
      code,
      connectedMs: Date.now() - session.connectedAt,
    });
  }

  async postMessage(session: Session, dto: SendMessageDto): Promise<void> {
    const room = dto.room ?? DEFAULT_ROOM;
    this.hub.assertMember(session, room);
    this.moderation.assertMaySend(session, room); // MUTED, SLOW_MODE: in memory
    this.metrics.messagesReceived.inc();
    const { record, duplicate } = await this.store.append({
      room,
      nickname: session.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
      userId: session.userId,
    });
    if (record.clientMsgId !== null) session.send({ type: 'ack', clientMsgId: record.clientMsgId, id: record.id, room });
    if (duplicate) return; // a resend: acknowledged again, never broadcast twice (nor claimed: the original may be another's)
    this.hub.authored(session, record.id);
    this.hub.toRoom(room, liveMessageFrame(record));
    this.metrics.messagesBroadcast.inc();
  }

  /**
   * Anonymous mode: stores and delivers a direct message to the sender and the recipient's
   * connection. (A signed-in connection's `dm` goes to DirectMessagesService.)
   */
  async postDirect(session: Session, dto: DirectMessageDto): Promise<void> {
    if (session.isClosed) return; // replaced by a reconnect: its name is someone else's now
    const recipient = this.hub.findNickname(dto.to); // on any node
    if (!recipient) {
      throw new ChatException(ErrorCode.NO_SUCH_USER, `No user named "${dto.to}" is online`);
    }
    this.metrics.messagesReceived.inc();
    const { record, duplicate } = await this.store.appendDirect({
      from: session.nickname,
      to: recipient.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
    });
    if (record.clientMsgId !== null) session.send({ type: 'ack', clientMsgId: record.clientMsgId, id: record.id, to: record.recipient });
    if (duplicate) return;
    this.hub.toUsers([session.nickname, recipient.nickname], liveDirectFrame(record));
    this.metrics.messagesBroadcast.inc();
  }

  /** Synchronous on one node; in cluster mode a promise, settled once Redis has the claim (Hub.renameClaimed). */
  rename(session: Session, nickname: string): Promise<void> | undefined {
    if (session.identity) {
      throw new ChatException(ErrorCode.FORBIDDEN, 'Your nickname comes from your sign-in (the identity provider); it cannot be changed here');
    }
    return this.hub.renameClaimed(session, nickname);
  }

  async history(session: Session, dto: HistoryQueryDto): Promise<HistoryFrame> {
    const room = dto.room ?? DEFAULT_ROOM;
    this.hub.assertMember(session, room);
    const page = await this.store.page({ room, limit: dto.limit ?? DEFAULT_PAGE_SIZE, before: dto.before, after: dto.after });
    return historyFrame(room, page.messages, page.hasMore);
  }

  /** Closes every client with 1001, then lets the store flush what it accepted. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.hub.quieten();
    await Promise.all(Array.from(this.hub.sessions(), (session) => session.close(GOING_AWAY, 'Server shutting down', SHUTDOWN_GRACE_MS)));
    await this.store.close();
  }
}

/**
 * `?token=` on the connection URL, when it has a token's form. A malformed token is treated as
 * an unknown one (a fresh guest name, no error frame): either way the client learns from
 * `welcome.nickname` that it did not get its name back.
 */
function reconnectTokenFromUrl(url: string): string | undefined {
  let token: string | null;
  try {
    token = new URL(url, 'ws://localhost').searchParams.get('token');
  } catch {
    return undefined; // the resume parameters report an unparsable URL
  }
  return token !== null && RECONNECT_TOKEN_PATTERN.test(token) ? token : undefined;
}

/** `?since=12&rooms=general,eng` on the connection URL; undefined when neither is given. */
function resumeFromUrl(url: string): ResumeDto | undefined {
  const query = new URL(url, 'ws://localhost').searchParams;
  const since = query.get('since');
  const rooms = query.get('rooms');
  if (since === null && rooms === null) return undefined;
  return validatePayload(ResumeDto, { since: since ?? '0', ...(rooms === null ? {} : { rooms }) });
}

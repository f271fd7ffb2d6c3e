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
import { DEFAULT_ROOM, directFrame, historyFrame, messageFrame, RECONNECT_TOKEN_PATTERN, type HistoryFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { validatePayload } from '../protocol/validate-payload';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { DirectMessagesService } from './direct-messages.service';
import { ResumeService } from './resume.service';
import { SessionLifetime } from './session-lifetime.service';

export const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
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
    private readonly directs: DirectMessagesService,
  ) {}

  /**
   * A new connection: its session, or none when the server is shutting down (closed with 1001).
   * Its nickname is the one `?token=` holds, else a fresh guest name (see Hub.open). Then welcome,
   * history and the join notification; or, with `?since=&rooms=` on the URL, welcome and a
   * replay of those rooms (see ResumeService). The sequence never rejects. A signed-in connection
   * (`identity`, jwt mode) is named by its token's claims, ignores `?token=`, and is closed with
   * 4001 when its token expires (SessionLifetime); its user is recorded before the welcome, and
   * the direct messages that waited for it follow the history (DirectMessagesService).
   */
  connect(transport: Transport, remoteAddress: string, url = '/', identity?: Identity): Session | undefined {
    if (this.shuttingDown) {
      void transport.close(GOING_AWAY, 'Server shutting down', SHUTDOWN_GRACE_MS);
      return undefined;
    }
    const session = this.hub.open(transport, remoteAddress, identity ? undefined : reconnectTokenFromUrl(url), identity);
    this.lifetime.track(session);
    this.start(session, url).catch((error: unknown) => {
      this.logger.error({ msg: 'connection setup failed', remoteAddress, err: error });
      void session.close(INTERNAL_ERROR, 'Internal error', SHUTDOWN_GRACE_MS);
    });
    return session;
  }

  private async start(session: Session, url: string): Promise<void> {
    if (session.identity) {
      // Recorded before anything is sent, so that others can address the user from now on.
      if (!(await this.directs.recordSignIn(session)) || session.isClosed) return;
    }
    let resume: ResumeDto | undefined;
    let badResume: unknown;
    try {
      resume = resumeFromUrl(url);
    } catch (error) {
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
    if (session.identity) await this.directs.sendUndelivered(session, lastIds);
    this.hub.goLive(session, lastIds);
  }

  disconnect(session: Session, code?: number): void {
    this.lifetime.forget(session);
    this.hub.close(session);
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
    this.metrics.messagesReceived.inc();
    const { record, duplicate } = await this.store.append({ room, nickname: session.nickname, body: dto.message, clientMsgId: dto.clientMsgId });
    if (record.clientMsgId !== null) session.send({ type: 'ack', clientMsgId: record.clientMsgId, id: record.id, room });
    if (duplicate) return; // a resend: acknowledged again, never broadcast twice
    this.hub.toRoom(room, messageFrame(record));
    this.metrics.messagesBroadcast.inc();
  }

  /** Stores and delivers a direct message to the sender and every connection of the recipient. */
  async postDirect(session: Session, dto: DirectMessageDto): Promise<void> {
    if (session.isClosed) return; // replaced by a reconnect: its name is someone else's now
    const recipient = this.hub.findUser(dto.to);
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
    this.hub.toUsers([session.nickname, recipient.nickname], directFrame(record));
    this.metrics.messagesBroadcast.inc();
  }

  rename(session: Session, nickname: string): void {
    if (session.identity) {
      throw new ChatException(ErrorCode.FORBIDDEN, 'Your nickname comes from your sign-in (the identity provider); it cannot be changed here');
    }
    this.hub.rename(session, nickname);
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

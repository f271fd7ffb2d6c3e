import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { AuthService } from '../auth/auth.service';
import { sqliteOptions } from '../database/typeorm-options';
import { ErrorReporter } from '../hub/error-reporter';
import { FakeTransport } from '../hub/fake-transport';
import { Hub, type HubSettings } from '../hub/hub';
import { LocalBroker } from '../hub/local-broker';
import type { Session } from '../hub/session';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { DEFAULT_ROOM, liveMessageFrame, type MessageFrame, type ServerFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import { AuditStore } from '../store/audit-store.service';
import { DirectMessageStore } from '../store/direct-message-store.service';
import { MessageChanges } from '../store/message-changes.service';
import { MessageStore } from '../store/message-store.service';
import { RetentionStore } from '../store/retention-store.service';
import { ModerationStore } from '../store/moderation-store.service';
import { RoomDirectory } from '../store/room-directory.service';
import { UserStore } from '../store/user-store.service';
import { ChatService } from './chat.service';
import { DirectMessagesService } from './direct-messages.service';
import { MembershipService } from './membership.service';
import { MessageEditsService } from './message-edits.service';
import { ModerationService } from './moderation.service';
import { ResumeService } from './resume.service';
import { RoomsService } from './rooms.service';
import { SessionLifetime } from './session-lifetime.service';

/** A connection as the chat specs see it: its session, and what was written to it. */
export interface Client {
  session: Session;
  transport: FakeTransport;
  frames(): ServerFrame[];
  clear(): void;
}

export interface FixtureSettings extends HubSettings {
  resumeMax: number;
  /** Anonymous unless a spec gives one (jwt mode, with a verifier). */
  auth: AuthService;
}

const DEFAULTS: Omit<FixtureSettings, 'auth'> = { presenceBatchThreshold: 100, presenceBatchMs: 1000, nickHoldMs: 30_000, resumeMax: 1000 };

/**
 * The chat services for their unit specs, wired as ChatModule wires them: the real hub, broker,
 * services and MessageStore, over an in-memory SQLite database built by the migrations. Clients
 * connect, rename, join and post through the services themselves, over a FakeTransport.
 */
export class ChatFixture {
  readonly hub: Hub;
  readonly store: MessageStore;
  readonly dmStore: DirectMessageStore;
  readonly changes: MessageChanges;
  readonly edits: MessageEditsService;
  readonly directs: DirectMessagesService;
  readonly errors: ErrorReporter;
  readonly resumes: ResumeService;
  readonly chat: ChatService;
  readonly rooms: RoomsService;
  readonly membership: MembershipService;
  readonly lifetime: SessionLifetime;
  readonly users: UserStore;
  readonly directory: RoomDirectory;
  readonly retention: RetentionStore;
  readonly moderation: ModerationService;
  private readonly clients: Client[] = [];

  private constructor(
    private readonly dataSource: DataSource,
    readonly metrics: ChatMetrics,
    settings: FixtureSettings,
  ) {
    this.store = new MessageStore(dataSource, metrics);
    this.users = new UserStore(this.store.database);
    this.directory = new RoomDirectory(this.store.database);
    this.hub = new Hub(new LocalBroker(), metrics, { identified: settings.auth.mode === 'jwt', ...settings });
    this.errors = new ErrorReporter(metrics);
    this.dmStore = new DirectMessageStore(this.store.database);
    const audit = new AuditStore(this.store.database);
    this.changes = new MessageChanges(this.store.database);
    this.edits = new MessageEditsService(this.hub, this.changes, audit);
    this.retention = new RetentionStore(this.store.database);
    this.resumes = new ResumeService(this.hub, this.store, this.errors, new ConfigService({ RESUME_MAX: settings.resumeMax }), this.dmStore, this.changes, this.retention);
    this.lifetime = new SessionLifetime(this.hub, settings.auth);
    const { hub, store, dmStore, users, errors } = this;
    this.directs = new DirectMessagesService(hub, store, dmStore, users, metrics, errors, new ConfigService({ RESUME_MAX: settings.resumeMax }));
    this.moderation = new ModerationService(hub, new ModerationStore(this.store.database), users, this.directory, audit, metrics);
    this.chat = new ChatService(this.hub, this.store, metrics, this.resumes, this.errors, this.lifetime, this.users, this.directory, this.directs, this.moderation);
    this.rooms = new RoomsService(this.hub, this.store, this.directory, this.errors);
    this.membership = new MembershipService(this.hub, this.rooms, this.directory, this.users);
  }

  static async open(metrics: ChatMetrics, settings: Partial<FixtureSettings> = {}): Promise<ChatFixture> {
    const dataSource = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await dataSource.initialize();
    return new ChatFixture(dataSource, metrics, { ...DEFAULTS, auth: new AuthService({ mode: 'anonymous' }), ...settings });
  }

  async close(): Promise<void> {
    this.lifetime.onModuleDestroy();
    this.hub.onModuleDestroy();
    await this.store.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /**
   * Connects over ChatService (`url` as the client sent it) and returns without waiting for the
   * connect sequence: the session is still connecting while its history or replay is read.
   */
  open(url = '/', transport = new FakeTransport(), identity?: Identity): Client {
    const session = this.chat.connect(transport, '127.0.0.1', url, identity);
    if (!session) throw new Error('the server refused the connection');
    const client: Client = {
      session,
      transport,
      frames: () => transport.frames(),
      clear: () => transport.clear(),
    };
    this.clients.push(client);
    return client;
  }

  /** A live client named `nickname`, in exactly `rooms` (joined in order), its frames so far cleared. */
  async connect(nickname: string, rooms: readonly string[] = [DEFAULT_ROOM], transport?: FakeTransport): Promise<Client> {
    const client = this.open('/', transport);
    await client.session.whenLive();
    await this.chat.rename(client.session, nickname);
    for (const room of rooms) await this.rooms.join(client.session, { room });
    if (!rooms.includes(DEFAULT_ROOM)) this.rooms.leave(client.session, { room: DEFAULT_ROOM });
    this.clearAll();
    return client;
  }

  /** Connection closed by the client: what the gateway does on a socket's close. */
  disconnect(client: Client): void {
    client.transport.isOpen = false;
    this.chat.disconnect(client.session, 1000);
  }

  /** Sends a room message as `client` would, and returns the message frame it was broadcast as. */
  async post(client: Client, room: string, message: string): Promise<MessageFrame> {
    await this.chat.postMessage(client.session, { room, message });
    return this.lastMessage(room);
  }

  /** Stores a message without delivering it: sent while the client was away. */
  async stored(room: string, body = `in ${room}`): Promise<MessageFrame> {
    const { record } = await this.store.append({ room, nickname: 'bob', body });
    return liveMessageFrame(record);
  }

  /** Stores one message per entry, in order, so their ids follow the list. */
  async storedIn(...rooms: string[]): Promise<MessageFrame[]> {
    const frames: MessageFrame[] = [];
    for (const room of rooms) frames.push(await this.stored(room));
    return frames;
  }

  clearAll(): void {
    for (const client of this.clients) client.clear();
  }

  private async lastMessage(room: string): Promise<MessageFrame> {
    const { messages } = await this.store.page({ room, limit: 1 });
    return liveMessageFrame(messages[0]);
  }
}

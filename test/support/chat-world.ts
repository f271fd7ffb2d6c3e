import { DataSource } from 'typeorm';
import type { WebSocket } from 'ws';
import { sqliteOptions } from '../../src/database/typeorm-options';
import { FanoutService } from '../../src/fanout/fanout.service';
import { Session } from '../../src/fanout/session';
import { MessageStore } from '../../src/messages/message-store.service';
import { ChatMetrics } from '../../src/metrics/chat-metrics.service';
import { RoomMembersService } from '../../src/users/room-members.service';
import type { MessageFrame } from '../../src/chat/protocol';
import { fakeSocket, recorded, type RecordedClient } from './fakes';

/**
 * The services a room-level unit spec works with, wired as the app wires them, over an
 * in-memory SQLite store, with helpers that do what ChatService does to them.
 */
export class ChatWorld {
  readonly members = new RoomMembersService();
  readonly fanout = new FanoutService(this.members);
  readonly store: MessageStore;

  private constructor(
    private readonly ds: DataSource,
    readonly metrics: ChatMetrics,
  ) {
    this.store = new MessageStore(ds, metrics);
  }

  static async open(metrics: ChatMetrics): Promise<ChatWorld> {
    const ds = new DataSource(sqliteOptions({ path: ':memory:', synchronous: 'FULL' }));
    await ds.initialize();
    return new ChatWorld(ds, metrics);
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }

  /** A client in `rooms`; live unless `connecting`, as ChatService leaves it before goLive(). */
  connect(nickname: string, rooms: readonly string[] = ['general'], connecting = false): RecordedClient {
    const fake = fakeSocket();
    const session = new Session(fake as unknown as WebSocket, nickname, '127.0.0.1');
    this.fanout.add(session);
    for (const room of rooms) this.members.join(session, room);
    if (!connecting) session.goLive();
    return recorded(fake, session);
  }

  /** Stores a message and delivers it to the room, as ChatService.postMessage does. */
  async post(room: string, body: string, nickname = 'bob'): Promise<MessageFrame> {
    const { frame } = await this.store.append({ room, nickname, body });
    this.fanout.toRoom(room, frame);
    return frame;
  }
}

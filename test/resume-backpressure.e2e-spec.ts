import type { Socket } from 'node:net';
import { WsTransport } from '../src/gateway/ws-transport';
import { Hub } from '../src/hub/hub';
import { MessageStore } from '../src/store/message-store.service';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { startServer, type TestServer } from './support/test-app';

// Issue 10, defect 1: a replay larger than the 8 MiB slow-consumer limit (3 rooms of 1000
// messages of 4000 characters, about 12 MB) cut off a healthy client that reads as fast as it can.
const ROOMS = ['a', 'b', 'c'];
const PER_ROOM = 1000;
const BODY = 'x'.repeat(4000);
const REPLAY_WAIT_MS = 60_000;
const TEST_TIMEOUT_MS = 90_000;
/** SLOW_CONSUMER_GRACE_MS after the client stops taking anything, with room to spare on a busy machine. */
const STALL_WAIT_MS = 15_000;
/** A paced replay waits for the client once a megabyte is queued: one more frame at most on top. */
const PACED_PEAK_BYTES = 2 * 1024 * 1024;

describe('replays larger than the slow-consumer limit (e2e)', () => {
  let server: TestServer;
  let lastId: number;
  const open: ChatClient[] = [];

  beforeAll(async () => {
    server = await startServer({ RESUME_MAX: String(PER_ROOM) });
    const store = server.app.get(MessageStore);
    const appends = [];
    for (let i = 0; i < PER_ROOM; i++) {
      for (const room of ROOMS) appends.push(store.append({ room, nickname: 'seed', body: BODY }));
    }
    lastId = Math.max(...(await Promise.all(appends)).map((s) => s.record.id));
  }, 60_000);

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  /** The most any client had queued when the server wrote to it: what a replay costs the server's memory. */
  function peakQueued(): () => number {
    let peak = 0;
    const write = WsTransport.prototype.write;
    jest.spyOn(WsTransport.prototype, 'write').mockImplementation(function (this: WsTransport, data: Buffer) {
      peak = Math.max(peak, this.bufferedBytes);
      write.call(this, data);
    });
    return () => peak;
  }

  afterAll(async () => {
    await server.close();
  });

  async function connect(url: string): Promise<ChatClient> {
    const client = await ChatClient.connect(url);
    open.push(client);
    return client;
  }

  /** Waits for `resumed`, then checks that the client got all 3000 messages, in id order, and is still connected. */
  async function expectWholeReplay(client: ChatClient): Promise<void> {
    const closed = client.closed.then(({ code }) => {
      throw new Error(`closed with ${code} during the replay`);
    });
    const resumed = await Promise.race([client.nextOfType('resumed', REPLAY_WAIT_MS), closed]);

    expect(resumed).toEqual({ type: 'resumed', lastId });
    const ids = client.frames.filter((f) => f.type === 'message').map((f) => f.id as number);
    expect(ids).toHaveLength(ROOMS.length * PER_ROOM);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    expect(client.frames.some((f) => f.type === 'gap')).toBe(false);
    // Still connected and served: a request after the replay is answered.
    client.send('who', { room: 'a' });
    await expect(client.nextOfType('presence')).resolves.toMatchObject({ type: 'presence', room: 'a' });
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  }

  it(
    'sends a fast reader the whole replay of a `resume` and `resumed`, paced, without cutting it off',
    async () => {
      const client = await connect(server.wsUrl);
      await client.collect((f) => f.type === 'notification' && f.event === 'join', 1);
      const peak = peakQueued();

      client.send('resume', { since: 0, rooms: ROOMS });

      await expectWholeReplay(client);
      const joins = client.frames.filter((f) => f.type === 'notification' && f.event === 'join').map((f) => f.room);
      expect(joins).toEqual(['general', ...ROOMS]);
      expect(peak()).toBeLessThan(PACED_PEAK_BYTES);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'sends a fast reader the whole replay of `?since=0&rooms=a,b,c` on the URL, paced, then its joins',
    async () => {
      const peak = peakQueued();

      const client = await connect(`${server.wsUrl}?since=0&rooms=${ROOMS.join(',')}`);

      await expectWholeReplay(client);
      expect(client.frames[0]).toMatchObject({ type: 'welcome', rooms: ROOMS });
      const joins = client.frames.filter((f: Frame) => f.type === 'notification' && f.event === 'join').map((f) => f.room);
      expect(joins).toEqual(ROOMS);
      expect(peak()).toBeLessThan(PACED_PEAK_BYTES);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'still cuts off a client that stops reading in the middle of the replay',
    async () => {
      const hub = server.app.get(Hub);
      const before = hub.size;
      const client = await connect(`${server.wsUrl}?since=0&rooms=${ROOMS.join(',')}`);
      await client.nextOfType('message');
      const raw = (client.socket as unknown as { _socket: Socket })._socket;
      raw.pause();

      await withTimeout(
        (async () => {
          while (hub.size > before) await new Promise((resolve) => setTimeout(resolve, 50));
        })(),
        STALL_WAIT_MS,
        'the server to drop the stalled client',
      );
      raw.resume();

      await expect(client.waitClosed(REPLAY_WAIT_MS)).resolves.toMatchObject({ code: 1006 });
      expect(client.frames.some((f) => f.type === 'resumed')).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});

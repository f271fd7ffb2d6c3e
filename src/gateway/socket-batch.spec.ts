import { once } from 'node:events';
import { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { corkUntilEndOfTurn, netSocketOf, writeTextFrame } from './socket-batch';

const WAIT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS).unref()),
  ]);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Messages the client receives, in order, until it has `count` (binary ones marked). */
function receive(client: WebSocket, count: number): Promise<string[]> {
  const received: string[] = [];
  return withTimeout(
    new Promise((resolve) => {
      client.on('message', (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? `binary:${data.toString()}` : data.toString());
        if (received.length === count) resolve(received);
      });
    }),
    `${count} messages`,
  );
}

describe('socket-batch', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let sut: WebSocket;

  beforeEach(async () => {
    server = new WebSocketServer({ port: 0, perMessageDeflate: false });
    await withTimeout(once(server, 'listening'), 'listening');
    const accepted = withTimeout(once(server, 'connection') as Promise<[WebSocket]>, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
    [sut] = await accepted;
    await withTimeout(once(client, 'open'), 'open');
  });

  afterEach(async () => {
    client.terminate();
    for (const ws of server.clients) ws.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reaches the connection's net.Socket through ws", () => {
    expect(netSocketOf(sut)).toBeInstanceOf(Socket);
  });

  it("holds a turn's frames in the socket and sends them together, in order, once the turn ends", async () => {
    const socket = netSocketOf(sut)!;
    const frames = receive(client, 3);
    for (const text of ['ack', 'echo', 'delivery']) {
      corkUntilEndOfTurn(sut);
      sut.send(text);
    }
    expect(socket.writableCorked).toBe(1);
    // 3 frames of a 2-byte header each, nothing handed to the kernel yet
    expect(socket.writableLength).toBe(3 * 2 + 'ackechodelivery'.length);
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    await expect(frames).resolves.toEqual(['ack', 'echo', 'delivery']);
  });

  it('uncorks after promise continuations of the same turn, as a group commit resolves them', async () => {
    const socket = netSocketOf(sut)!;
    const frames = receive(client, 3);
    const committed = Promise.resolve();
    const writes = ['m1', 'm2', 'm3'].map((text) =>
      committed.then(() => {
        corkUntilEndOfTurn(sut);
        sut.send(text);
        return socket.writableCorked;
      }),
    );
    await expect(Promise.all(writes)).resolves.toEqual([1, 1, 1]);
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    await expect(frames).resolves.toEqual(['m1', 'm2', 'm3']);
  });

  it('corks again in a later turn', async () => {
    const frames = receive(client, 2);
    corkUntilEndOfTurn(sut);
    sut.send('first');
    await nextTurn();
    corkUntilEndOfTurn(sut);
    sut.send('second');
    expect(netSocketOf(sut)!.writableCorked).toBe(1);
    await expect(frames).resolves.toEqual(['first', 'second']);
  });

  it('leaves a socket without a net.Socket alone', () => {
    expect(() => corkUntilEndOfTurn({} as WebSocket)).not.toThrow();
    expect(netSocketOf({} as WebSocket)).toBeUndefined();
  });

  describe(writeTextFrame.name, () => {
    it('writes a payload to several connections as complete text frames, whatever its length', async () => {
      const other = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
      const [second] = (await withTimeout(once(server, 'connection'), 'second connection')) as [WebSocket];
      await withTimeout(once(other, 'open'), 'second open');
      const texts = ['hi', 'é'.repeat(100), 'x'.repeat(70_000)]; // 7-bit, 16-bit and 64-bit lengths
      const toFirst = receive(client, 3);
      const toSecond = receive(other, 3);
      for (const text of texts) {
        const data = Buffer.from(text);
        expect([writeTextFrame(sut, data), writeTextFrame(second, data)]).toEqual([true, true]);
      }
      await expect(toFirst).resolves.toEqual(texts);
      await expect(toSecond).resolves.toEqual(texts);
      other.terminate();
    });

    it('keeps its frames in order with what ws sends itself', async () => {
      const frames = receive(client, 3);
      writeTextFrame(sut, Buffer.from('one'));
      sut.send('two');
      writeTextFrame(sut, Buffer.from('three'));
      await expect(frames).resolves.toEqual(['one', 'two', 'three']);
    });

    it('declines while ws has a frame queued (a Blob being read), so the caller sends through ws', async () => {
      const frames = receive(client, 2);
      sut.send(new Blob(['queued']));
      expect(writeTextFrame(sut, Buffer.from('after'))).toBe(false);
      sut.send(Buffer.from('after'), { binary: false });
      await expect(frames).resolves.toEqual(['binary:queued', 'after']);
    });
  });
});

import { once } from 'node:events';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { WsTransport } from './ws-transport';

const WAIT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The client side's net.Socket, to stop and resume reading. */
const netOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

describe(WsTransport.name, () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let socket: WebSocket;
  let sut: WsTransport;

  beforeEach(async () => {
    server = new WebSocketServer({ port: 0, perMessageDeflate: false });
    await withTimeout(once(server, 'listening'), 'listening');
    const accepted = withTimeout(once(server, 'connection') as Promise<[WebSocket]>, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { perMessageDeflate: false });
    client.on('error', () => undefined);
    [socket] = await accepted;
    await withTimeout(once(client, 'open'), 'open');
    sut = new WsTransport(socket);
  });

  afterEach(async () => {
    client.terminate();
    for (const ws of server.clients) ws.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is open while the socket is, and reports what ws has buffered', () => {
    expect(sut.isOpen).toBe(true);
    expect(sut.bufferedBytes).toBe(socket.bufferedAmount);
  });

  it('writes each buffer as one text frame, in order', async () => {
    const received: Array<[string, boolean]> = [];
    const both = withTimeout(
      new Promise<void>((resolve) =>
        client.on('message', (data: Buffer, isBinary: boolean) => {
          received.push([data.toString(), isBinary]);
          if (received.length === 2) resolve();
        }),
      ),
      'two frames',
    );

    sut.write(Buffer.from('{"type":"first"}'));
    sut.write(Buffer.from('{"type":"second"}'));
    await both;

    expect(received).toEqual([
      ['{"type":"first"}', false],
      ['{"type":"second"}', false],
    ]);
  });

  it('closes with the code and reason, and is no longer open', async () => {
    const closed = withTimeout(once(client, 'close') as Promise<[number, Buffer]>, 'client close');

    await withTimeout(sut.close(1001, 'Server shutting down', 3000), 'transport close');

    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([1001, 'Server shutting down']);
    expect(sut.isOpen).toBe(false);
  });

  it('terminates a peer that does not answer the close within the grace period', async () => {
    netOf(client).pause();
    const gone = withTimeout(once(socket, 'close'), 'server-side close');
    const started = Date.now();

    await withTimeout(sut.close(1001, 'bye', 100), 'transport close');

    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await gone; // terminated: it did not wait for the client's close frame
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('terminate drops the connection: the client sees 1006', async () => {
    const closed = withTimeout(once(client, 'close') as Promise<[number, Buffer]>, 'client close');

    sut.terminate();

    expect(sut.isOpen).toBe(false);
    await expect(closed.then(([code]) => code)).resolves.toBe(1006);
  });

  describe('drained', () => {
    const megabyte = Buffer.alloc(1024 * 1024, 'x');

    it('resolves at once when no more than that is buffered', async () => {
      await expect(withTimeout(sut.drained(0), 'drained')).resolves.toBeUndefined();
    });

    it('waits while the client does not read, and resolves once it has', async () => {
      netOf(client).pause();
      for (let i = 0; i < 32; i++) sut.write(megabyte);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sut.bufferedBytes).toBeGreaterThan(1024 * 1024);
      let drained = false;
      const waiting = sut.drained(256 * 1024).then(() => (drained = true));

      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(drained).toBe(false);

      netOf(client).resume();
      await withTimeout(waiting, 'drained');
      expect(sut.bufferedBytes).toBeLessThanOrEqual(256 * 1024);
    });

    it('resolves when the connection goes instead', async () => {
      netOf(client).pause();
      for (let i = 0; i < 32; i++) sut.write(megabyte);
      const waiting = sut.drained(0);

      sut.terminate();

      await expect(withTimeout(waiting, 'drained')).resolves.toBeUndefined();
    });
  });
});

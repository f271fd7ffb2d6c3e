import { WebSocket, type ClientOptions } from 'ws';

export type Frame = Record<string, unknown> & { type: string };

const DEFAULT_WAIT_MS = 5000;

/** A real `ws` client that queues every frame it receives; every wait has a timeout. */
export class ChatClient {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    socket.on('error', () => undefined);
  }

  /** `protocols`: the subprotocols offered, `['bearer', jwt]` for a browser-style token. */
  static connect(url: string, options?: ClientOptions, protocols?: string[]): Promise<ChatClient> {
    const socket = new WebSocket(url, protocols ?? [], { perMessageDeflate: false, ...options });
    const client = new ChatClient(socket);
    return withTimeout(
      new Promise<ChatClient>((resolve, reject) => {
        socket.once('open', () => resolve(client));
        socket.once('error', reject);
      }),
      DEFAULT_WAIT_MS,
      `connect ${url}`,
    );
  }

  /** Connects and consumes the welcome, history and join frames; returns the client and them. */
  static async join(url: string): Promise<{ client: ChatClient; welcome: Frame; history: Frame; join: Frame }> {
    const client = await ChatClient.connect(url);
    const welcome = await client.next();
    const history = await client.next();
    const join = await client.next();
    return { client, welcome, history, join };
  }

  get nickname(): string {
    const welcome = this.frames.find((f) => f.type === 'welcome');
    return String(welcome?.nickname);
  }

  send(event: string, data?: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** The next frame not yet consumed, optionally the next one matching `predicate` (others are skipped). */
  async next(predicate: (f: Frame) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++];
        if (predicate(frame)) return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(this.frames.slice(-5))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  nextOfType(type: string, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.type === type, timeoutMs);
  }

  /** Waits until `count` frames of `type` (or matching a predicate) have arrived in total; returns them all. */
  async collect(type: string | ((f: Frame) => boolean), count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    const matches = typeof type === 'string' ? (f: Frame) => f.type === type : type;
    for (;;) {
      const found = this.frames.filter(matches);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${found.length}/${count} ${String(type)} frames within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Asserts nothing more of `type` arrives within `ms` (used to prove absence). */
  async expectNoMore(type: string, ms = 300): Promise<void> {
    const before = this.frames.filter((f) => f.type === type).length;
    await new Promise((r) => setTimeout(r, ms));
    const after = this.frames.filter((f) => f.type === type).length;
    if (after !== before) throw new Error(`unexpected ${type} frame: ${JSON.stringify(this.frames.at(-1))}`);
  }

  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, timeoutMs, 'close');
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.waitClosed().catch(() => this.socket.terminate());
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

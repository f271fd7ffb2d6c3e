import type { ServerFrame } from '../protocol/frames';
import type { Transport } from './transport';

/**
 * A Transport for unit specs: records what is written, and lets the spec play the client
 * (how much it has left unread, when it reads, when the connection goes). Used by the hub's,
 * the gateway's and the chat services' specs; tsconfig.build.json keeps it out of dist/.
 */
export class FakeTransport implements Transport {
  isOpen = true;
  bufferedBytes = 0;
  /** Every buffer written, in order (the very instances, not copies). */
  readonly written: Buffer[] = [];
  terminated = 0;
  readonly closes: Array<{ code: number; reason: string; graceMs: number }> = [];
  private readonly waiters: Array<{ bytes: number; resolve: () => void }> = [];

  /** Writes also count as unread until read() when `queueWrites` is set (a client that reads only when told). */
  constructor(private readonly queueWrites = false) {}

  write(data: Buffer): void {
    if (!this.isOpen) throw new Error('write to a transport that is not open');
    this.written.push(data);
    if (this.queueWrites) this.bufferedBytes += data.length;
  }

  close(code: number, reason: string, graceMs: number): Promise<void> {
    this.closes.push({ code, reason, graceMs });
    this.gone();
    return Promise.resolve();
  }

  terminate(): void {
    this.terminated++;
    this.gone();
  }

  drained(bytes: number): Promise<void> {
    if (!this.isOpen || this.bufferedBytes <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  /** The client takes `bytes` of what is queued (all of it by default). */
  read(bytes = this.bufferedBytes): void {
    this.bufferedBytes = Math.max(0, this.bufferedBytes - bytes);
    this.wake();
  }

  /** How many drained() calls are waiting. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** The frames written so far, decoded. */
  frames(): ServerFrame[] {
    return this.written.map((data) => JSON.parse(data.toString('utf8')) as ServerFrame);
  }

  /** Forgets what was written so far. */
  clear(): void {
    this.written.length = 0;
  }

  private gone(): void {
    this.isOpen = false;
    this.wake();
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (!this.isOpen || this.bufferedBytes <= waiter.bytes) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

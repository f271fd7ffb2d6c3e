import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ConnectCommand, ConnectReport } from './commands';
import { Histogram } from './histogram';

export interface Client {
  readonly index: number;
  readonly ws: WebSocket;
  /** The room this client sends to. */
  readonly room: string;
  nickname: string;
  ready: boolean;
  /** Closed loop: when the outstanding message was sent, -1 when none is. */
  sentAt: number;
  seq: number;
}

export type FrameHandler = (client: Client, data: Buffer) => void;

/** `{"type":"` is 9 bytes, so the first letter of every frame type sits at this offset. */
export const TYPE_AT = 9;
export const FRAME = { ack: 0x61, error: 0x65, message: 0x6d, notification: 0x6e, welcome: 0x77 } as const;

/** Every client of one generator process; frames of ready clients go to `handler`, unparsed. */
export class Pool {
  readonly clients: Client[] = [];
  handler: FrameHandler = () => undefined;
  /** Sees every frame of every client, ready or not (the storm counts them all). */
  tap: ((data: Buffer) => void) | null = null;
  senderCount = 0;
  closed = 0;
  errors = 0;
  /** Why connections ended, live or not: a close code, or the socket error's code when it failed before. */
  readonly endings: Record<string, number> = {};

  readyClients(): Client[] {
    return this.clients.filter((c) => c.ready && c.ws.readyState === WebSocket.OPEN);
  }

  connect(cmd: ConnectCommand): Promise<ConnectReport> {
    this.senderCount = cmd.layout === 'sendpath' ? cmd.count - cmd.receivers : cmd.count;
    const latency = new Histogram();
    const start = performance.now();
    let next = 0;
    let settled = 0;
    let ready = 0;
    let lastReady = start;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        const durationMs = lastReady - start;
        resolve({ requested: cmd.count, ready, failed: settled - ready, durationMs, perSecond: durationMs > 0 ? (ready * 1000) / durationMs : 0, latency: latency.summary() });
      };
      const timer = setTimeout(finish, cmd.timeoutMs);
      const launch = (): void => {
        while (next < cmd.count && next - settled < cmd.inFlight) this.open(cmd, next++, onSettled);
      };
      const onSettled = (ok: boolean, began: number): void => {
        settled++;
        if (ok) {
          ready++;
          lastReady = performance.now();
          latency.record(lastReady - began);
        }
        if (settled === cmd.count) finish();
        else launch();
      };
      launch();
    });
  }

  private open(cmd: ConnectCommand, index: number, settle: (ok: boolean, began: number) => void): void {
    const began = performance.now();
    const url = cmd.urls ? cmd.urls[index % cmd.urls.length] : cmd.url;
    const ws = new WebSocket(url + pathFor(cmd, index), {
      headers: cmd.jwtSecret === undefined ? undefined : { authorization: `Bearer ${benchToken(cmd.jwtSecret, index)}` },
      perMessageDeflate: false,
      skipUTF8Validation: true,
      localAddress: `127.0.0.${1 + (index % cmd.sourceAddresses)}`,
      handshakeTimeout: cmd.timeoutMs,
    });
    const client: Client = { index, ws, room: roomFor(cmd, index), nickname: '', ready: false, sentAt: -1, seq: 0 };
    this.clients.push(client);
    let done = false;
    const settleOnce = (ok: boolean): void => {
      if (done) return;
      done = true;
      settle(ok, began);
    };
    ws.on('message', (data: Buffer) => {
      this.tap?.(data);
      if (client.ready) return this.handler(client, data);
      if (this.endsConnectSequence(client, data)) {
        client.ready = true;
        settleOnce(true);
      }
    });
    ws.on('error', (error: NodeJS.ErrnoException) => {
      if (!done) this.count(`error ${error.code ?? error.message}`);
      settleOnce(false);
    });
    ws.on('close', (code: number) => {
      this.count(`close ${code}${client.ready ? '' : ' before live'}`);
      if (client.ready) this.closed++;
      else settleOnce(false);
    });
  }

  private count(ending: string): void {
    this.endings[ending] = (this.endings[ending] ?? 0) + 1;
  }

  /**
   * A client is ready once it has received its own join notification (the end of the connect
   * sequence). All three servers send the joiner its own join, also where the product coalesces
   * everyone else's into `presence_diff`; the rest of the welcome (every user on the build before
   * issue 10 and the baseline, at most 1,000 plus `usersTotal` on the product) is not read.
   */
  private endsConnectSequence(client: Client, data: Buffer): boolean {
    const type = data[TYPE_AT];
    if (type === FRAME.welcome) {
      client.nickname = field(data, '"nickname":"');
    } else if (type === FRAME.error) {
      this.errors++;
    } else if (type === FRAME.notification && client.nickname !== '') {
      const text = data.toString('utf8');
      return text.includes('"event":"join"') && text.includes(`"nickname":"${client.nickname}"`);
    }
    return false;
  }
}

/** A top-level string field, found wherever it sits in the frame (the frame is not parsed: welcomes can be large). */
function field(data: Buffer, key: string): string {
  const at = data.indexOf(key, 0, 'latin1');
  if (at < 0) return '';
  const start = at + key.length;
  return data.toString('utf8', start, data.indexOf(0x22, start));
}

function pathFor(cmd: ConnectCommand, index: number): string {
  if (cmd.layout === 'general') return '/';
  if (cmd.layout === 'storm' || cmd.layout === 'probe') return `/?since=0&rooms=${roomFor(cmd, index)}`;
  if (cmd.layout === 'idle') return `/?since=0&rooms=idle-${Math.floor(index / cmd.roomSize)}`;
  const senders = cmd.count - cmd.receivers;
  if (index < senders) return `/?since=0&rooms=s${index}`;
  const rooms: string[] = [];
  for (let s = index - senders; s < senders; s += cmd.receivers) rooms.push(`s${s}`);
  return `/?since=0&rooms=${rooms.join(',')}`;
}

function roomFor(cmd: ConnectCommand, index: number): string {
  if (cmd.layout === 'sendpath') return `s${index}`;
  if (cmd.layout === 'idle') return `idle-${Math.floor(index / cmd.roomSize)}`;
  if (cmd.layout === 'probe') return 'probe';
  return 'general';
}

/**
 * The HS256 token of client `index` (sub `bench-<index>`, valid for an hour). Signed here with
 * node:crypto rather than a JWT library: the generator only mints tokens for a server under test,
 * whose verification (jose) is what is measured, and it mints 500 of them in a few milliseconds.
 */
function benchToken(secret: string, index: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: `bench-${index}`, preferred_username: `bench${index}`, iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

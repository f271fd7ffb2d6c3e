// The load generator's Socket.IO clients (socket.io-client over WebSocket only), for the cluster
// scenario's Socket.IO peer: the same layout and readiness rule as the raw WebSocket pool.
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import type { ConnectCommand, ConnectReport } from './commands';
import { Histogram } from './histogram';
import { stampOfText, type FanoutClients } from './load';

/** A chat message event as it comes off the wire (after engine.io's `4`): `2["message",{…}]`. */
const MESSAGE_EVENT = '2["message",';

/**
 * socket.io-client's own parser, except that a `message` event is handed on undecoded, its send
 * time read out of the raw packet: the raw WebSocket clients of the other servers read it without
 * parsing the frame, and the generator should do the same work per frame for every server (the
 * library's per-packet work, engine.io-client's and the event dispatch, still costs it more). The
 * wire is unchanged: the servers use the default parser.
 */
class MessageSkippingDecoder extends Decoder {
  override add(chunk: unknown): void {
    if (typeof chunk === 'string' && chunk.startsWith(MESSAGE_EVENT)) {
      this.emitReserved('decoded', { type: PacketType.EVENT, nsp: '/', data: ['message', chunk] });
      return;
    }
    super.add(chunk);
  }
}
const PARSER = { Encoder, Decoder: MessageSkippingDecoder };

interface SioClient {
  readonly socket: Socket;
  nickname: string;
  ready: boolean;
}

interface Frame {
  event?: unknown;
  nickname?: unknown;
}

/** Every Socket.IO client of one generator process; `general` layout only (the cluster scenario's). */
export class SioPool implements FanoutClients {
  private readonly clients: SioClient[] = [];
  private onStamp: (stamp: number) => void = () => undefined;
  closed = 0;
  errors = 0;

  recipients(): number {
    return this.ready().length;
  }

  senders(count: number): Array<(text: string) => void> {
    return this.ready()
      .slice(0, count)
      .map((c) => (text: string) => void c.socket.emit('message', { message: text }));
  }

  listen(onStamp: (stamp: number) => void): void {
    this.onStamp = onStamp;
  }

  private ready(): SioClient[] {
    return this.clients.filter((c) => c.ready && c.socket.connected);
  }

  connect(cmd: ConnectCommand): Promise<ConnectReport> {
    const latency = new Histogram();
    const start = performance.now();
    const urls = cmd.urls ?? [cmd.url];
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
        while (next < cmd.count && next - settled < cmd.inFlight) {
          const index = next++;
          this.open(urls[index % urls.length], cmd, index, onSettled);
        }
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

  private open(url: string, cmd: ConnectCommand, index: number, settle: (ok: boolean, began: number) => void): void {
    const began = performance.now();
    // One engine.io connection per client (forceNew), no reconnection: a dropped client counts as closed, as with `ws`.
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: cmd.timeoutMs, parser: PARSER, localAddress: `127.0.0.${1 + (index % cmd.sourceAddresses)}` } as Parameters<typeof io>[1]);
    const client: SioClient = { socket, nickname: '', ready: false };
    this.clients.push(client);
    let done = false;
    const settleOnce = (ok: boolean): void => {
      if (done) return;
      done = true;
      settle(ok, began);
    };
    socket.on('welcome', (frame: Frame) => (client.nickname = String(frame.nickname)));
    socket.on('notification', (frame: Frame) => {
      // Ready on its own join notification, the end of the connect sequence on every server.
      if (!client.ready && frame.event === 'join' && frame.nickname === client.nickname) {
        client.ready = true;
        settleOnce(true);
      }
    });
    // The raw packet (MessageSkippingDecoder): the first `~` in it opens the message text's stamp.
    socket.on('message', (packet: string) => {
      if (client.ready) this.onStamp(stampOfText(packet));
    });
    socket.on('error', () => this.errors++);
    socket.on('connect_error', () => settleOnce(false));
    socket.on('disconnect', () => {
      if (client.ready) this.closed++;
      else settleOnce(false);
    });
  }
}

import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { FloodCommand, FloodReport } from './commands';

const FRAME = '{"event":"message","data":{"message":"flood flood flood flood flood flood flood flood"}}';
/** Frames written per turn, while the socket's own buffer stays under this: as fast as the link takes them. */
const PER_TURN = 200;
const HIGH_WATER = 1024 * 1024;
/** How long the flooder waits while its send buffer is full. */
const BACKOFF_MS = 5;

/**
 * One abusive client: joins `general` like any other, then sends chat messages as fast as its
 * socket takes them for `durationMs`, and counts what the server answered (RATE_LIMITED, a close).
 */
export function flood(cmd: FloodCommand): Promise<FloodReport> {
  const ws = new WebSocket(cmd.url, { perMessageDeflate: false });
  let sent = 0;
  let limited = 0;
  let closeCode = 0;
  let flooding = false;
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      flooding = false;
      ws.terminate();
      resolve({ sent, limited, closeCode, durationMs: cmd.durationMs });
    };
    ws.on('error', (error) => (flooding ? finish() : reject(error)));
    ws.on('close', (code) => {
      closeCode = code;
      flooding = false;
    });
    ws.on('message', (data: Buffer) => {
      if (data.includes('"RATE_LIMITED"')) limited++;
      if (flooding || !data.includes('"event":"join"')) return;
      flooding = true;
      const end = performance.now() + cmd.durationMs;
      const pump = (): void => {
        if (!flooding) return;
        if (performance.now() >= end) return finish();
        if (ws.bufferedAmount >= HIGH_WATER) {
          // The server stopped reading (it pushes back on a flooder): wait without spinning. A real
          // flooder's CPU is its own machine's; this one shares the server's two cores, and a busy
          // loop here measured as the server's latency.
          setTimeout(pump, BACKOFF_MS);
          return;
        }
        for (let i = 0; i < PER_TURN; i++) ws.send(FRAME);
        sent += PER_TURN;
        setImmediate(pump);
      };
      pump();
    });
  });
}

// The reconnect storm (every client at once into one room) and the probes: a few other users
// exchanging messages meanwhile, in a generator process of their own so that the storm's load
// on the generator does not show in their latency.
import { performance } from 'node:perf_hooks';
import type { ProbeReport, ProbeStartCommand, ProbeStopCommand, StormCommand, StormReport } from './commands';
import { Histogram } from './histogram';
import { beginPhase, cpuSince, stampOf, text, waitUntil } from './load';
import { FRAME, TYPE_AT, type Pool } from './pool';

/** `{"type":"` then the type up to the closing quote. */
function typeOf(data: Buffer): string {
  const end = data.indexOf(0x22, TYPE_AT);
  return end > TYPE_AT && end < TYPE_AT + 32 ? data.toString('latin1', TYPE_AT, end) : '(other)';
}

export async function storm(pool: Pool, cmd: StormCommand): Promise<StormReport> {
  const cpu = process.cpuUsage();
  const framesByType: Record<string, number> = {};
  let frames = 0;
  let bytes = 0;
  let lastFrameAt = performance.now();
  pool.tap = (data) => {
    frames++;
    bytes += data.length;
    lastFrameAt = performance.now();
    const type = typeOf(data);
    framesByType[type] = (framesByType[type] ?? 0) + 1;
  };
  const start = performance.now();
  const connect = await pool.connect({
    kind: 'connect',
    url: cmd.url,
    count: cmd.count,
    layout: 'storm',
    receivers: 0,
    roomSize: cmd.count,
    inFlight: cmd.inFlight,
    sourceAddresses: cmd.sourceAddresses,
    timeoutMs: cmd.liveTimeoutMs,
  });
  // Presence batches and the last joins keep coming after the last client is live.
  const drainEnd = performance.now() + cmd.drainMaxMs;
  await waitUntil(() => performance.now() - lastFrameAt >= cmd.quietMs || performance.now() >= drainEnd, cmd.drainMaxMs + 1000);
  const quiet = performance.now() - lastFrameAt >= cmd.quietMs;
  pool.tap = null;
  return { ...connect, frames, bytes, framesByType, countedMs: performance.now() - start, quiet, closed: pool.closed, errors: pool.errors, endings: { ...pool.endings }, cpuSeconds: cpuSince(cpu) };
}

interface ProbeRun {
  latency: Histogram;
  sent: number;
  received: number;
  running: boolean;
  timer: NodeJS.Timeout | null;
  closed0: number;
  errors0: number;
}

let probe: ProbeRun | null = null;

export async function startProbes(pool: Pool, cmd: ProbeStartCommand): Promise<unknown> {
  const connect = await pool.connect({ kind: 'connect', url: cmd.url, count: cmd.probes, layout: 'probe', receivers: 0, roomSize: cmd.probes, inFlight: cmd.probes, sourceAddresses: 1, timeoutMs: cmd.timeoutMs });
  beginPhase();
  const run: ProbeRun = { latency: new Histogram(), sent: 0, received: 0, running: true, timer: null, closed0: pool.closed, errors0: pool.errors };
  pool.handler = (_client, data) => {
    if (data[TYPE_AT] === FRAME.message) {
      const stamp = stampOf(data);
      if (stamp >= 0) {
        run.received++;
        run.latency.record(performance.now() - stamp);
      }
    } else if (data[TYPE_AT] === FRAME.error) pool.errors++;
  };
  const senders = pool.readyClients();
  const begin = performance.now();
  const tick = (): void => {
    const due = Math.floor(((performance.now() - begin) * cmd.rate) / 1000) + 1;
    for (; run.running && run.sent < due; run.sent++) {
      senders[run.sent % senders.length].ws.send(`{"event":"message","data":{"message":"${text(performance.now())}","room":"probe"}}`);
    }
    if (run.running) run.timer = setTimeout(tick, 5);
  };
  if (senders.length > 0) tick();
  probe = run;
  return connect;
}

export async function stopProbes(pool: Pool, cmd: ProbeStopCommand): Promise<ProbeReport> {
  const run = probe;
  if (!run) throw new Error('probes were not started');
  run.running = false;
  if (run.timer) clearTimeout(run.timer);
  const recipients = pool.readyClients().length;
  const expected = run.sent * recipients;
  await waitUntil(() => run.received >= expected, cmd.drainMs);
  probe = null;
  return {
    sent: run.sent,
    expected,
    received: run.received,
    lost: Math.max(0, expected - run.received),
    latency: run.latency.summary(),
    closed: pool.closed - run.closed0,
    errors: pool.errors - run.errors0,
  };
}

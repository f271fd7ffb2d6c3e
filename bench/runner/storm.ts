// The reconnect storm: every client of a restarted server comes back at once into one room. Each
// run gets a server of its own on an empty database (its clients' leaves would keep a shared one
// busy for long), a generator for the storm and another for the probes.
import { join } from 'node:path';
import type { ProbeReport, StormReport } from '../loadgen/commands';
import { LoadGen } from './loadgen-client';
import { measure, type Usage } from './proc-stats';
import type { Context, Window } from './scenarios';
import { profiled, startServer, stopServer, type RunKind } from './servers';

export interface StormResult {
  report: StormReport;
  probes: ProbeReport;
  /** The server and the storm's generator, from the first connect until counting ended. */
  usage: Usage;
  window: Window;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The servers the storm runs on: the product, and the earlier build if one was given, else the
 * baseline. With an earlier build the baseline is left out: its presence is as quadratic as the
 * earlier build's (the same protocol), so it would only spend another 90 s timing out.
 */
export function stormKinds(ctx: Context): RunKind[] {
  return ctx.entry.previous ? ['product', 'previous'] : ['product', 'baseline'];
}

export async function storm(ctx: Context, kind: RunKind, label: string): Promise<StormResult> {
  const p = ctx.params.storm;
  const options = { dbPath: join(ctx.workDir, `${label}-${kind}.sqlite`), heartbeatMs: p.heartbeatMs, logFile: join(ctx.workDir, `${label}-${kind}.log`) };
  const server = await startServer(kind, ctx.entry, profiled(options, ctx.profile));
  const probes = new LoadGen(ctx.wsLoadScript);
  const gen = new LoadGen(ctx.wsLoadScript);
  try {
    await probes.request({ kind: 'probe-start', url: server.wsUrl, probes: p.probes, rate: p.probeRate, timeoutMs: 10_000 }, 20_000);
    await sleep(500);
    const start = nowUs();
    const done = measure(server.pid, gen.pid);
    const command = { kind: 'storm', url: server.wsUrl, count: p.clients, inFlight: p.inFlight, sourceAddresses: p.sourceAddresses, liveTimeoutMs: p.liveTimeoutMs, quietMs: p.quietMs, drainMaxMs: p.drainMaxMs } as const;
    const report = await gen.request<StormReport>(command, p.liveTimeoutMs + p.drainMaxMs + 30_000);
    const usage = done();
    const window = { startUs: start, endUs: nowUs() };
    const probeReport = await probes.request<ProbeReport>({ kind: 'probe-stop', drainMs: 5000 }, 20_000);
    return { report, probes: probeReport, usage, window };
  } finally {
    // Before the generators: 10,000 leaves would keep a quadratic server busy for minutes.
    await stopServer(server, ctx.profile !== undefined);
    await gen.kill();
    await probes.kill();
  }
}

// The history REST load: autocannon in a process of its own, `limit=50&before=<random id>`, no pipelining.
import autocannon from 'autocannon';

export interface HttpLoadConfig {
  url: string;
  connections: number;
  durationS: number;
  /** Highest stored id; `before` is drawn uniformly from 51 .. maxId + 1. */
  maxId: number;
}

export interface HttpLoadReport {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  cpuSeconds: number;
}

async function run(config: HttpLoadConfig): Promise<HttpLoadReport> {
  const cpu = process.cpuUsage();
  const span = Math.max(1, config.maxId - 50);
  const result = await autocannon({
    url: config.url,
    connections: config.connections,
    pipelining: 1,
    duration: config.durationS,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/api/messages?limit=50&before=${51 + Math.floor(Math.random() * span)}` }),
      },
    ],
  });
  const { user, system } = process.cpuUsage(cpu);
  const ok = result['2xx'];
  return {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    cpuSeconds: (user + system) / 1e6,
  };
}

process.once('message', (config: HttpLoadConfig) => {
  run(config).then(
    (report) => process.send?.({ ok: true, report }, () => process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, error: String(error) }, () => process.exit(1)),
  );
});

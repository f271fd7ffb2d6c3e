// Jest globalSetup: probes the PostgreSQL and Redis that the PostgreSQL-store and cluster suites
// need, once per run, and tells the test workers (forked after this runs) through the environment.
//
// - Reachable: TEST_POSTGRES_URL / TEST_REDIS_URL are set for the suites (overridable beforehand).
// - Unreachable on a laptop: those suites skip, and this prints one loud line saying so.
// - Unreachable with REQUIRE_SERVICES=1 (.ci/run sets it): the run fails before any test.
const net = require('node:net');

const SERVICES = [
  { name: 'PostgreSQL', env: 'TEST_POSTGRES_URL', fallback: 'postgres://postgres@127.0.0.1:5432/test' },
  { name: 'Redis', env: 'TEST_REDIS_URL', fallback: 'redis://127.0.0.1:6379' },
];

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), timeout: 1000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

module.exports = async function servicesSetup() {
  const missing = [];
  for (const service of SERVICES) {
    const url = process.env[service.env] || service.fallback;
    if (await reachable(url)) {
      process.env[service.env] = url;
    } else {
      delete process.env[service.env];
      missing.push(`${service.name} (${url})`);
    }
  }
  if (missing.length === 0) return;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but ${missing.join(' and ')} cannot be reached: the PostgreSQL and cluster suites would not run`);
  }
  console.warn(`\n!!! ${missing.join(' and ')} not reachable: SKIPPING the PostgreSQL-store and cluster suites (set REQUIRE_SERVICES=1 to fail instead) !!!\n`);
};

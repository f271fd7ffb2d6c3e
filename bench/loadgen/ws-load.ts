// The WebSocket load generator: a separate process, driven by the runner over IPC, one command at a time.
import type { Command, Reply, StatusReport } from './commands';
import { flood } from './flood';
import { broadcast, sendPath } from './load';
import { Pool } from './pool';
import { startProbes, stopProbes, storm } from './storm';

const pool = new Pool();

async function run(command: Command): Promise<unknown> {
  switch (command.kind) {
    case 'connect':
      return pool.connect(command);
    case 'broadcast':
      return broadcast(pool, command);
    case 'sendpath':
      return sendPath(pool, command);
    case 'storm':
      return storm(pool, command);
    case 'probe-start':
      return startProbes(pool, command);
    case 'probe-stop':
      return stopProbes(pool, command);
    case 'flood':
      return flood(command);
    case 'status':
      return { open: pool.readyClients().length, closed: pool.closed, errors: pool.errors } satisfies StatusReport;
  }
}

function reply(message: Reply): void {
  process.send?.(message);
}

process.on('message', (message: { id: number; command: Command }) => {
  run(message.command).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: String(error) }),
  );
});
// The runner went away: nothing left to do.
process.on('disconnect', () => process.exit(0));

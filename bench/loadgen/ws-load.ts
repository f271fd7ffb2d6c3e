// The WebSocket load generator: a separate process, driven by the runner over IPC, one command at a time.
import type { Command, Reply, StatusReport } from './commands';
import { flood } from './flood';
import { broadcast, sendPath, wsFanout, type FanoutClients } from './load';
import { Pool } from './pool';
import { SioPool } from './sio-pool';
import { startProbes, stopProbes, storm } from './storm';

const pool = new Pool();
// Socket.IO clients instead, once a connect asks for them (the cluster scenario's Socket.IO peer).
let sio: SioPool | undefined;
const fanoutClients = (): FanoutClients => sio ?? wsFanout(pool);

async function run(command: Command): Promise<unknown> {
  switch (command.kind) {
    case 'connect':
      if (command.protocol !== 'socketio') return pool.connect(command);
      sio ??= new SioPool();
      return sio.connect(command);
    case 'broadcast':
      return broadcast(fanoutClients(), command);
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
      return { open: pool.readyClients().length + (sio?.recipients() ?? 0), closed: pool.closed + (sio?.closed ?? 0), errors: pool.errors + (sio?.errors ?? 0) } satisfies StatusReport;
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

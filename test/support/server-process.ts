import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { withTimeout } from './chat-client';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

/**
 * As test-app.ts does for the in-process servers: the suites that run the built server send bursts
 * (a SIGKILL mid-burst, 50 messages before a SIGTERM) that the default rate limit would cut short.
 */
const RAISED_LIMITS = { RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000', MAX_CONNECTIONS_PER_IP: '1000000' };

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  wsUrl: string;
  /** stdout and stderr as they came. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the built server as a child process: `node dist/main.js`, or with `via: 'npm'` the
 * documented production command `npm run start:prod` (then `child` is npm). Resolves once the
 * ready banner names the port.
 */
export async function spawnServer(env: Record<string, string>, { via = 'node' }: { via?: 'node' | 'npm' } = {}): Promise<ServerProcess> {
  const [command, args] = via === 'npm' ? ['npm', ['run', 'start:prod']] : [process.execPath, [MAIN]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', NO_COLOR: '1', ...RAISED_LIMITS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /nest-chat ready on port (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(({ code }) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
    }),
    15000,
    'server to listen',
  ).catch((error: unknown) => {
    child.kill('SIGKILL'); // never leave a stray server holding the test run open
    throw error;
  });
  return { child, port, wsUrl: `ws://127.0.0.1:${port}/`, output: () => output, exited };
}

/** Runs the built server expecting it to fail at startup; returns its exit code and output (both streams, and stderr alone). */
export async function runFailingServer(env: Record<string, string>): Promise<{ code: number | null; output: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
    stderr += c.toString();
  });
  // 'close', not 'exit': both pipes are drained by then.
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once('close', resolve)), 15000, 'server to exit');
  return { code, output, stderr };
}

/** A port that was free a moment ago, so both server processes can be started on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

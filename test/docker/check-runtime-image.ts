// `npm run check:docker`: carries out the Dockerfile without a Docker daemon. Each stage becomes a
// folder standing for its filesystem; COPY (with .dockerignore), WORKDIR, ENV, USER, VOLUME,
// HEALTHCHECK and CMD are read from the Dockerfile, and its RUN commands are run when this checker
// knows them (npm, mkdir, chown; apt-get only checks that the build tools exist here), else it
// fails. Then it starts the runtime stage's CMD in the runtime folder as the Dockerfile's USER and
// checks readiness, a WebSocket welcome, the HEALTHCHECK command and a SIGTERM shutdown. Not
// covered: the base image itself (its OS, its Node build), Docker's networking and volume mounts.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import WebSocket from 'ws';
import { dockerignore, execForm, parseDockerfile, parseEnv, type Instruction, type Stage } from './dockerfile';

const ROOT = join(__dirname, '..', '..', '..'); // compiled to node_modules/.cache/nest-chat-docker-check/
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

interface StageState {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: { uid: number; gid: number };
  volumes: string[];
  cmd?: string[];
  healthcheck?: string[];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`FAILED: ${what}`);
  console.log(`  ok: ${what}`);
}

function inStage(state: StageState, path: string): string {
  return join(state.root, posix.resolve(state.workdir, path));
}

function copy(instruction: Instruction, state: StageState, stages: Map<string, StageState>): void {
  const words = instruction.args.split(/\s+/);
  const from = words[0].startsWith('--from=') ? stages.get(words.shift()!.slice('--from='.length)) : undefined;
  const dest = words.pop()!;
  for (const source of words) {
    const target = dest.endsWith('/') || words.length > 1 ? join(inStage(state, dest), posix.basename(source)) : inStage(state, dest);
    if (from) {
      cpSync(join(from.root, posix.resolve('/', source)), target, { recursive: true });
      continue;
    }
    const origin = join(ROOT, source);
    let copied = 0;
    cpSync(origin, target, {
      recursive: true,
      filter: (path) => {
        const rel = relative(ROOT, path).split('\\').join('/');
        const keep = rel === '' || !ignored(rel) || (statSync(path).isDirectory() && !ignored(`${rel}/x`));
        if (keep && statSync(path).isFile()) copied++;
        return keep;
      },
    });
    if (copied === 0) throw new Error(`Dockerfile:${instruction.line}: COPY ${source}: nothing left after .dockerignore (docker build would fail)`);
  }
}

function run(instruction: Instruction, state: StageState): void {
  for (const command of instruction.args.split('&&').map((c) => c.trim())) {
    const [program, ...args] = command.split(/\s+/);
    if (program === 'npm') {
      console.log(`  $ ${command}   (in ${posix.resolve(state.workdir)})`);
      const result = spawnSync('npm', args, { cwd: inStage(state, '.'), stdio: 'inherit', timeout: 20 * 60_000 });
      if (result.status !== 0) throw new Error(`Dockerfile:${instruction.line}: ${command} failed (${result.status ?? result.signal})`);
    } else if (program === 'apt-get' && args[0] === 'install') {
      for (const tool of args.filter((a) => !a.startsWith('-') && a !== 'install')) {
        check(spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0, `${tool} (apt-get install in the Dockerfile) is installed here`);
      }
    } else if ((program === 'apt-get' && args[0] === 'update') || (program === 'rm' && args.join(' ') === '-rf /var/lib/apt/lists/*')) {
      // package lists: nothing to lay out
    } else if (program === 'mkdir' && args[0] === '-p') {
      for (const dir of args.slice(1)) mkdirSync(inStage(state, dir), { recursive: true });
    } else if (program === 'chown' && /^\d+:\d+$/.test(args[0])) {
      const [uid, gid] = args[0].split(':').map(Number);
      for (const path of args.slice(1)) chownSync(inStage(state, path), uid, gid);
    } else {
      throw new Error(`Dockerfile:${instruction.line}: this checker cannot carry out \`${command}\`: teach test/docker/check-runtime-image.ts`);
    }
  }
}

function carryOut(stage: Stage, state: StageState, stages: Map<string, StageState>): void {
  for (const instruction of stage.instructions) {
    const { keyword, args } = instruction;
    if (keyword === 'WORKDIR') {
      state.workdir = posix.resolve(state.workdir, args);
      mkdirSync(inStage(state, '.'), { recursive: true });
    } else if (keyword === 'COPY') copy(instruction, state, stages);
    else if (keyword === 'RUN') run(instruction, state);
    else if (keyword === 'ENV') Object.assign(state.env, parseEnv(args));
    else if (keyword === 'USER') {
      const match = /^(\d+):(\d+)$/.exec(args);
      if (!match) throw new Error(`Dockerfile:${instruction.line}: USER must be numeric uid:gid for this checker, got ${args}`);
      state.user = { uid: Number(match[1]), gid: Number(match[2]) };
    } else if (keyword === 'VOLUME') state.volumes.push(...args.split(/\s+/));
    else if (keyword === 'CMD') state.cmd = execForm(args, 'CMD');
    else if (keyword === 'HEALTHCHECK') state.healthcheck = execForm(args.slice(args.indexOf('CMD ') + 4), 'HEALTHCHECK CMD');
    else if (keyword !== 'EXPOSE' && keyword !== 'ARG') throw new Error(`Dockerfile:${instruction.line}: ${keyword} is not understood by this checker`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The runtime stage's environment, its absolute paths moved into the stage's folder. */
function runtimeEnv(state: StageState, port: number): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(state.env).map(([k, v]) => [k, v.startsWith('/') ? join(state.root, v) : v]));
  return { PATH: process.env.PATH, HOME: '/nonexistent', ...env, PORT: String(port) };
}

function command(argv: string[]): [string, string[]] {
  return [argv[0] === 'node' ? process.execPath : argv[0], argv.slice(1)];
}

async function waitFor<T>(what: string, ms: number, poll: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function welcome(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error('no welcome within 5 s')), 5000);
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(data.toString()) as Record<string, unknown>);
    });
    ws.once('error', reject);
  });
}

/** What can be read without building: checked first, so a wrong CMD does not wait for the install. */
function checkRuntimeInstructions(runtime: Stage): void {
  const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).pop()?.args ?? '';
  check(execForm(last('CMD'), 'CMD').join(' ') === 'node dist/main.js', `CMD is node dist/main.js in exec form (${last('CMD')})`);
  check(/^[1-9]\d*:\d+$/.test(last('USER')), `USER is a numeric uid:gid other than root (${last('USER')})`);
  check(last('HEALTHCHECK').includes('/health/ready'), 'HEALTHCHECK probes /health/ready');
  check(last('VOLUME') !== '' && last('ENV').includes(`SQLITE_PATH=${last('VOLUME')}/`), 'SQLITE_PATH is on the VOLUME');
}

async function startRuntime(state: StageState): Promise<void> {
  const { cmd, user, healthcheck } = state;
  const port = await freePort();
  const env = runtimeEnv(state, port);
  const [program, args] = command(cmd!);
  const server = spawn(program, args, { cwd: inStage(state, '.'), env, uid: user!.uid, gid: user!.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  try {
    const banner = await waitFor('the ready banner', 30_000, () => {
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${output}`);
      return /"msg":"(nest-chat ready[^"]*)"/.exec(output)?.[1];
    });
    console.log(`  ${banner}`);
    check(banner.includes(`database ${env.SQLITE_PATH}`), 'the banner names the database on the volume');
    check(readFileSync(`/proc/${server.pid}/status`, 'utf8').includes(`\nUid:\t${user!.uid}\t`), `the server runs as uid ${user!.uid}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(5000) });
    check(ready.status === 200, `GET /health/ready answers 200 (${ready.status})`);
    check((await welcome(`ws://127.0.0.1:${port}/`)).type === 'welcome', 'a WebSocket client gets its welcome frame');
    const [hcProgram, hcArgs] = command(healthcheck!);
    check(spawnSync(hcProgram, hcArgs, { env, uid: user!.uid, gid: user!.gid, timeout: 10_000 }).status === 0, 'the HEALTHCHECK command exits 0');
    server.kill('SIGTERM');
    check((await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])) === 0, 'SIGTERM: the server exits 0');
    check(output.includes('shutdown complete'), 'it logged "shutdown complete"');
    check(statSync(env.SQLITE_PATH!).uid === user!.uid, 'the database file was created on the volume, owned by the USER');
  } finally {
    server.kill('SIGKILL');
  }
}

function checkRuntimeLayout(state: StageState): void {
  const app = inStage(state, '.');
  check(readdirSync(app).sort().join(' ') === 'dist docs node_modules package.json', `the runtime folder holds dist, docs, node_modules, package.json (${readdirSync(app).join(', ')})`);
  check(!existsSync(join(app, 'node_modules', 'jest')) && !existsSync(join(app, 'node_modules', '@nestjs', 'cli')), 'no devDependencies: neither jest nor @nestjs/cli is installed');
  check(existsSync(join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')), 'better-sqlite3 is built');
  for (const volume of state.volumes) check(statSync(join(state.root, volume)).uid === state.user?.uid, `VOLUME ${volume} belongs to the USER`);
}

async function main(): Promise<void> {
  const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
  const runtime = stages[stages.length - 1];
  const version = /^node:([\d.]+)/.exec(runtime.image)?.[1] ?? '?';
  check(process.version.startsWith(`v${version}.`) || process.version === `v${version}`, `this Node (${process.version}) is the image's (node:${version})`);
  checkRuntimeInstructions(runtime);
  const base = mkdtempSync(join(tmpdir(), 'nest-chat-image-'));
  chmodSync(base, 0o755); // the unprivileged USER must reach the runtime folder
  const states = new Map<string, StageState>();
  try {
    for (const stage of stages) {
      console.log(`stage ${stage.name} (FROM ${stage.image})`);
      const state: StageState = { root: join(base, stage.name), workdir: '/', env: {}, volumes: [] };
      mkdirSync(state.root, { recursive: true });
      states.set(stage.name, state);
      carryOut(stage, state, states);
    }
    const state = states.get(runtime.name)!;
    console.log(`runtime stage ${runtime.name}: ${dirname(inStage(state, '.'))}`);
    checkRuntimeLayout(state);
    await startRuntime(state);
    console.log('Dockerfile check: the runtime stage lays out, starts unprivileged, serves and shuts down cleanly');
  } finally {
    if (!process.argv.includes('--keep')) rmSync(base, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { spawnServer, type ServerProcess } from './support/server-process';
import { fillDisk, mountExt4, mountTmpfs, openInOtherProcess, type BreakableMount, type Mount, type OtherProcess } from './support/storage';

const UNAVAILABLE = 'The message store is unavailable; nothing was stored or sent, try again';
const unavailable = (clientMsgId: string) => ({ type: 'error', code: 'UNAVAILABLE', message: UNAVAILABLE, event: 'message', clientMsgId });

async function get(port: number, path: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, ms: performance.now() - started };
}

/** Polls GET `path` every 50 ms until it answers `status`. */
async function until(port: number, path: string, status: number, timeoutMs = 5000): Promise<{ status: number; body: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(port, path);
    if (res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`GET ${path} still answers ${res.status} after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

const logLines = (server: ServerProcess): Array<Record<string, unknown>> =>
  server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const storeLines = (server: ServerProcess, msg: string) => logLines(server).filter((l) => l.msg === msg);

async function stop(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return withTimeout(server.exited, 10_000, 'the server to exit');
}

async function messagesIn(port: number): Promise<Array<{ id: number; message: string; clientMsgId?: string }>> {
  const { status, body } = await get(port, '/api/messages?limit=200');
  expect(status).toBe(200);
  return body.messages as Array<{ id: number; message: string; clientMsgId?: string }>;
}

describe('storage faults (e2e)', () => {
  let servers: ServerProcess[];
  let clients: ChatClient[];
  let cleanups: Array<() => unknown>;

  beforeEach(() => {
    servers = [];
    clients = [];
    cleanups = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => withTimeout(s.exited, 5000, 'exit').catch(() => undefined)));
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const start = async (env: Record<string, string>): Promise<ServerProcess> => {
    const server = await spawnServer(env);
    servers.push(server);
    return server;
  };
  const enter = async (server: ServerProcess): Promise<ChatClient> => {
    const { client } = await ChatClient.join(server.wsUrl);
    clients.push(client);
    return client;
  };
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-faults-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const other = async (dbPath: string, lock: boolean): Promise<OtherProcess> => {
    const process = await openInOtherProcess(dbPath, { lock });
    cleanups.push(() => process.close());
    return process;
  };

  describe('a lock held by another process (BEGIN EXCLUSIVE)', () => {
    it('keeps /health/live answering at once and acks a message once the lock is released within STORE_BUSY_TIMEOUT_MS', async () => {
      const dbPath = join(tempDir(), 'chat.sqlite');
      const server = await start({ SQLITE_PATH: dbPath, STORE_BUSY_TIMEOUT_MS: '10000' });
      const alice = await enter(server);
      const bob = await enter(server);
      const locker = await other(dbPath, true);

      alice.send('message', { message: 'sent while locked', clientMsgId: 'l-1' });
      const latencies: number[] = [];
      for (let i = 0; i < 15; i++) {
        const live = await get(server.port, '/health/live');
        expect(live.status).toBe(200);
        latencies.push(live.ms);
        await new Promise((r) => setTimeout(r, 50));
      }
      // SQLite's synchronous busy handler froze everything, this included, for 5 s per attempt.
      expect(Math.max(...latencies)).toBeLessThan(250);
      await alice.expectNoMore('ack', 0);
      await bob.expectNoMore('message', 0);

      await locker.close();

      await expect(alice.nextOfType('ack', 3000)).resolves.toEqual({ type: 'ack', clientMsgId: 'l-1', id: 1, room: 'general' });
      await expect(bob.nextOfType('message', 3000)).resolves.toMatchObject({ id: 1, message: 'sent while locked' });
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({ status: 200 });
      await expect(metric(server.port, 'chat_store_lock_waits_total')).resolves.toBeGreaterThan(0);
    });

    it('answers the exact UNAVAILABLE frame and broadcasts nothing when the lock outlasts STORE_BUSY_TIMEOUT_MS, then recovers', async () => {
      const dbPath = join(tempDir(), 'chat.sqlite');
      const server = await start({ SQLITE_PATH: dbPath, STORE_BUSY_TIMEOUT_MS: '300' });
      const alice = await enter(server);
      const bob = await enter(server);
      const locker = await other(dbPath, true);

      alice.send('message', { message: 'locked out', clientMsgId: 'l-2' });

      await expect(alice.nextOfType('error', 3000)).resolves.toEqual(unavailable('l-2'));
      await alice.expectNoMore('ack', 200);
      await bob.expectNoMore('message', 0);
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({
        status: 503,
        body: { status: 'error', error: { database: { status: 'down', reason: expect.stringContaining('locked by another process for 300 ms') } } },
      });
      expect(storeLines(server, 'message store unhealthy: writes fail')).toEqual([expect.objectContaining({ level: 'error' })]);

      await locker.close();

      await until(server.port, '/health/ready', 200);
      expect(storeLines(server, 'message store recovered: writes succeed again')).toEqual([expect.objectContaining({ level: 'info' })]);
      alice.send('message', { message: 'locked out', clientMsgId: 'l-2' });
      await expect(alice.nextOfType('ack')).resolves.toMatchObject({ clientMsgId: 'l-2' });
      await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'locked out' });
    });
  });

  describe('a full disk (tmpfs)', () => {
    let tmpfs: Mount;

    beforeAll(() => {
      tmpfs = mountTmpfs('2m');
    });

    afterAll(() => tmpfs.unmount());

    it('is not ready while writes fail, answers UNAVAILABLE, and is ready again with no traffic once space is freed', async () => {
      const server = await start({ SQLITE_PATH: join(tmpfs.dir, 'chat.sqlite') });
      const alice = await enter(server);
      const bob = await enter(server);
      alice.send('message', { message: 'before', clientMsgId: 'f-1' });
      await alice.nextOfType('ack');
      await until(server.port, '/health/ready', 200);

      const filler = join(tmpfs.dir, 'filler');
      fillDisk(filler);
      alice.send('message', { message: 'x'.repeat(3000), clientMsgId: 'f-2' });

      await expect(alice.nextOfType('error')).resolves.toEqual(unavailable('f-2'));
      await bob.expectNoMore('message', 200);
      const notReady = await get(server.port, '/health/ready');
      expect(notReady).toMatchObject({
        status: 503,
        body: { error: { database: { status: 'down', reason: expect.stringContaining('SQLITE_FULL') } } },
      });
      await new Promise((r) => setTimeout(r, 1500)); // probes keep failing while the disk is full
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({ status: 503 });
      await expect(get(server.port, '/health/live')).resolves.toMatchObject({ status: 200 });
      await expect(metric(server.port, 'chat_store_writable')).resolves.toBe(0);
      expect(storeLines(server, 'message store unhealthy: writes fail')).toEqual([
        expect.objectContaining({ level: 'error', diagnosis: expect.stringContaining(`0 bytes free on the filesystem of ${tmpfs.dir}`) }),
      ]);

      unlinkSync(filler);

      await until(server.port, '/health/ready', 200);
      await expect(metric(server.port, 'chat_store_writable')).resolves.toBe(1);
      expect(storeLines(server, 'message store recovered: writes succeed again')).toHaveLength(1);
      alice.send('message', { message: 'after', clientMsgId: 'f-3' });
      await expect(alice.nextOfType('ack')).resolves.toMatchObject({ clientMsgId: 'f-3' });
      await expect(bob.next((f) => f.type === 'message' && f.clientMsgId === 'f-3')).resolves.toMatchObject({ message: 'after' });
      await expect(stop(server)).resolves.toEqual({ code: 0, signal: null });
    });
  });

  describe('a filesystem turned read-only under the server (ext4, errors=remount-ro)', () => {
    let ext4: BreakableMount;

    beforeAll(() => {
      ext4 = mountExt4(16);
    });

    afterAll(() => ext4.unmount());

    it('answers UNAVAILABLE and is not ready, while history is still served', async () => {
      const server = await start({ SQLITE_PATH: join(ext4.dir, 'chat.sqlite') });
      const alice = await enter(server);
      alice.send('message', { message: 'before', clientMsgId: 'r-1' });
      await alice.nextOfType('ack');

      ext4.turnReadOnly();
      alice.send('message', { message: 'after', clientMsgId: 'r-2' });

      await expect(alice.nextOfType('error')).resolves.toEqual(unavailable('r-2'));
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({
        status: 503,
        body: { error: { database: { status: 'down', reason: expect.stringMatching(/SQLITE_(IOERR|READONLY)/) } } },
      });
      await expect(messagesIn(server.port)).resolves.toEqual([expect.objectContaining({ message: 'before' })]);
      await new Promise((r) => setTimeout(r, 1500)); // probes keep failing: only an fsck and a remount bring it back
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({ status: 503 });
    });
  });

  describe('the database directory removed while the server runs', () => {
    it('stops acknowledging, goes not-ready and logs it once; no acknowledged message is missing after a restart', async () => {
      const dataDir = join(tempDir(), 'data');
      const dbPath = join(dataDir, 'chat.sqlite');
      const server = await start({ SQLITE_PATH: dbPath });
      const alice = await enter(server);
      const bob = await enter(server);
      alice.send('message', { message: 'before', clientMsgId: 'd-0' });
      await alice.nextOfType('ack');

      rmSync(dataDir, { recursive: true });
      const acks: Frame[] = [];
      alice.socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type === 'ack') acks.push(frame);
      });
      for (const id of ['d-1', 'd-2', 'd-3']) {
        alice.send('message', { message: `after ${id}`, clientMsgId: id });
        await expect(alice.nextOfType('error')).resolves.toEqual(unavailable(id));
      }

      await bob.expectNoMore('message', 200);
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({
        status: 503,
        body: { error: { database: { status: 'down', reason: `${dbPath} was removed while the server had it open` } } },
      });
      expect(storeLines(server, 'message store unhealthy: database files lost, restart the server')).toEqual([
        expect.objectContaining({ level: 'error', reason: `${dbPath} was removed while the server had it open` }),
      ]);
      await expect(stop(server)).resolves.toEqual({ code: 0, signal: null });

      const restarted = await start({ SQLITE_PATH: dbPath });
      const stored = await messagesIn(restarted.port);
      // Nothing after the removal was acknowledged; what was acknowledged before went with the directory.
      expect(acks).toEqual([]);
      expect(stored).toEqual([]);
    });
  });

  describe('the -shm file', () => {
    it('truncated by another process: fails the writes instead of dying of SIGBUS, exits cleanly, loses nothing acknowledged', async () => {
      const dbPath = join(tempDir(), 'chat.sqlite');
      const server = await start({ SQLITE_PATH: dbPath });
      const alice = await enter(server);
      const bob = await enter(server);
      for (const id of ['s-1', 's-2']) {
        alice.send('message', { message: `before ${id}`, clientMsgId: id });
        await alice.nextOfType('ack');
      }
      const size = statSync(`${dbPath}-shm`).size;

      truncateSync(`${dbPath}-shm`, 0); // this test process is "another process" to the server
      alice.send('message', { message: 'after', clientMsgId: 's-3' });

      // Before, the server died here: the insert touched the -shm mapping past its end (SIGBUS).
      const outcome = await alice.nextOfType('error').catch(async (error: unknown) => {
        const exit = await withTimeout(server.exited, 2000, 'the server to exit').catch(() => Promise.reject(error as Error));
        return { died: exit };
      });
      expect(outcome).toEqual(unavailable('s-3'));
      expect(statSync(`${dbPath}-shm`).size).toBe(size);
      await bob.expectNoMore('message', 200);
      await expect(get(server.port, '/api/messages')).resolves.toMatchObject({ status: 503 });
      await expect(get(server.port, '/health/ready')).resolves.toMatchObject({
        status: 503,
        body: { error: { database: { reason: expect.stringContaining(`${dbPath}-shm was truncated from ${size} to 0 bytes by another process`) } } },
      });
      expect(storeLines(server, 'message store unhealthy: database files lost, restart the server')).toHaveLength(1);
      expect(server.child.exitCode).toBeNull();

      await expect(stop(server)).resolves.toEqual({ code: 0, signal: null });

      const restarted = await start({ SQLITE_PATH: dbPath });
      await expect(messagesIn(restarted.port)).resolves.toEqual([
        expect.objectContaining({ id: 1, clientMsgId: 's-1' }),
        expect.objectContaining({ id: 2, clientMsgId: 's-2' }),
      ]);
    });

    it('not writable by the server (a non-root server, a -shm left by root): refuses to start, naming the file', async () => {
      const dir = tempDir();
      chmodSync(dir, 0o755);
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir);
      const dbPath = join(dataDir, 'chat.sqlite');
      await stop(await start({ SQLITE_PATH: dbPath })); // created and migrated by root
      await other(dbPath, false); // root keeps it open: its -wal and -shm stay, owned by root, 0644
      chownSync(dataDir, 65534, 65534);
      for (const file of [dbPath, `${dbPath}-wal`]) chownSync(file, 65534, 65534);

      const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
        env: { ...process.env, PORT: '0', SQLITE_PATH: dbPath, LOG_LEVEL: 'info', NO_COLOR: '1' },
        uid: 65534,
        gid: 65534,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), 15_000, 'the server to exit');

      expect({ code, listening: output.includes('listening on port') }).toEqual({ code: 1, listening: false });
      expect(output).toContain('the message store cannot write: SQLITE_READONLY: attempt to write a readonly database');
      expect(output).toContain(`${dbPath}-shm is not writable (EACCES)`);
    });
  });
});

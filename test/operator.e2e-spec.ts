import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeApp } from '../src/app.setup';
import { MessageStore } from '../src/store/message-store.service';
import { ChatClient, withTimeout } from './support/chat-client';
import { runFailingServer, spawnServer, type ServerProcess } from './support/server-process';
import { startServer } from './support/test-app';

function banner(port: number, database: string): string {
  return (
    `nest-chat ready on port ${port}: web client http://localhost:${port}/, WebSocket ws://localhost:${port}/, ` +
    `API docs http://localhost:${port}/api/docs, database ${database}, mode anonymous`
  );
}

function jsonLines(server: ServerProcess): Array<Record<string, unknown>> {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await withTimeout(server.exited, 10000, 'server exit');
}

function occupy(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const holder = createServer();
    holder.once('error', reject);
    holder.listen(port, '::', () => resolve(holder));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('operator experience (e2e)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-operator-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('ready banner', () => {
    it('in JSON logs: one line naming the web client, WebSocket and API docs URLs on the real port, the database path and the mode, and those URLs answer', async () => {
      const dbPath = join(dir, 'chat.sqlite');
      const server = await spawnServer({ SQLITE_PATH: dbPath });
      try {
        const ready = jsonLines(server).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('nest-chat ready'));
        expect(ready).toEqual([
          expect.objectContaining({
            level: 'info',
            context: 'Bootstrap',
            msg: banner(server.port, dbPath),
            ready: {
              port: server.port,
              webUrl: `http://localhost:${server.port}/`,
              wsUrl: `ws://localhost:${server.port}/`,
              docsUrl: `http://localhost:${server.port}/api/docs`,
              database: dbPath,
              mode: 'anonymous',
            },
          }),
        ]);
        // Production logs keep Nest's start-up lines, but not its "successfully started", which comes before the port is bound.
        expect(server.output()).toContain('Mapped {/api/messages, GET} route');
        expect(server.output()).not.toContain('successfully started');

        const { webUrl, docsUrl, wsUrl } = ready[0].ready as Record<string, string>;
        for (const url of [webUrl, docsUrl]) {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          expect([url, res.status, res.headers.get('content-type')]).toEqual([url, 200, expect.stringContaining('text/html')]);
        }
        const { client, welcome } = await ChatClient.join(wsUrl);
        expect(welcome).toMatchObject({ type: 'welcome', nickname: 'Guest1' });
        await client.close();
      } finally {
        await stop(server);
      }
    });

    it('in pretty logs (LOG_FORMAT=pretty): the same sentence on one short line, no route mapping or module lines, and a request line for the API only', async () => {
      const dbPath = join(dir, 'pretty.sqlite');
      const server = await spawnServer({ SQLITE_PATH: dbPath, LOG_FORMAT: 'pretty' });
      try {
        for (const path of ['/', '/main.js', '/api/docs', '/api/messages?limit=1']) {
          const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { signal: AbortSignal.timeout(5000) });
          expect([path, res.status]).toEqual([path, 200]);
        }
        await stop(server);

        const lines = server.output().trim().split('\n');
        expect(lines.filter((l) => l.includes('ready'))).toEqual([expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: /)]);
        expect(lines.find((l) => l.includes('ready'))?.replace(/^\[[^\]]+\] INFO: /, '')).toBe(banner(server.port, dbPath));
        for (const noise of ['Mapped {', 'dependencies initialized', 'subscribed to the', 'Starting Nest application', 'successfully started', '{"level"']) {
          expect(lines.filter((l) => l.includes(noise))).toEqual([]);
        }
        expect(lines.filter((l) => / GET /.test(l)).map((l) => l.replace(/^\[[^\]]+\] INFO: /, '').replace(/\d+ ms$/, 'N ms'))).toEqual([
          'GET /api/messages?limit=1 200 N ms',
        ]);
      } finally {
        server.child.kill('SIGKILL');
      }
    });
  });

  describe('port in use', () => {
    it.each(['json', 'pretty'])('(%s logs) exits 1 with one error naming the port and PORT, and never says it started', async (format) => {
      const holder = await occupy();
      const { port } = holder.address() as { port: number };
      try {
        const { code, output, stderr } = await runFailingServer({ PORT: String(port), SQLITE_PATH: join(dir, 'busy.sqlite'), LOG_FORMAT: format });
        expect(code).toBe(1);
        expect(stderr).toBe(`Port ${port} is already in use. Stop the program using it, or set PORT to another port (PORT=0 picks a free one).\n`);
        expect(output).not.toMatch(/successfully started|ready on port|EADDRINUSE/);
      } finally {
        holder.close();
      }
    });
  });

  describe('SIGTERM through the documented production command', () => {
    it('`npm run start:prod` passes SIGTERM to the server: clients get 1001, it logs what it closed, exits 0 and leaves no process behind', async () => {
      const server = await spawnServer({ SQLITE_PATH: join(dir, 'npm.sqlite') }, { via: 'npm' });
      const serverPid = jsonLines(server).find((l) => typeof l.msg === 'string' && l.msg.startsWith('nest-chat ready'))?.pid as number;
      expect(serverPid).not.toBe(server.child.pid); // npm is the parent, the server its child
      const a = await ChatClient.join(server.wsUrl);
      const b = await ChatClient.join(server.wsUrl);
      a.client.send('message', { message: 'before the signal', clientMsgId: 'npm-1' });
      await a.client.nextOfType('ack');

      server.child.kill('SIGTERM');

      await expect(a.client.waitClosed()).resolves.toEqual({ code: 1001, reason: 'Server shutting down' });
      await expect(b.client.waitClosed()).resolves.toEqual({ code: 1001, reason: 'Server shutting down' });
      // npm exits with its script's exit code: the server's.
      await expect(withTimeout(server.exited, 10000, 'npm exit')).resolves.toEqual({ code: 0, signal: null });
      expect(jsonLines(server).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown complete'))).toEqual([
        expect.objectContaining({
          pid: serverPid,
          msg: 'shutdown complete: 2 client(s) closed, 0 pending write(s) flushed',
          shutdown: { clientsClosed: 2, writesFlushed: 0 },
        }),
      ]);
      expect(isAlive(serverPid)).toBe(false);
      await expect(fetch(`http://127.0.0.1:${server.port}/health/live`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    });
  });

  describe('shutdown summary', () => {
    it('counts the clients it closed and the writes still pending when shutdown began', async () => {
      const server = await startServer();
      const a = await ChatClient.join(server.wsUrl);
      const b = await ChatClient.join(server.wsUrl);
      const store = server.app.get(MessageStore);
      // Accepted, not yet committed: the group commit waits for the next turn of the event loop.
      const writes = Array.from({ length: 5 }, (_, i) => store.append({ room: 'general', nickname: 'op', body: `pending ${i}` }));

      await expect(closeApp(server.app)).resolves.toEqual({ clientsClosed: 2, writesFlushed: 5 });
      await expect(Promise.all(writes)).resolves.toHaveLength(5);
      await expect(a.client.waitClosed()).resolves.toMatchObject({ code: 1001 });
      await expect(b.client.waitClosed()).resolves.toMatchObject({ code: 1001 });
    });
  });
});

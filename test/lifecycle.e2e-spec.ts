import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, withTimeout } from './support/chat-client';
import { runFailingServer, spawnServer } from './support/server-process';
import { startServer } from './support/test-app';

describe('process lifecycle (e2e)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-e2e-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on SIGTERM closes every client with 1001, flushes pending writes and exits 0', async () => {
    const dbPath = join(dir, 'chat.sqlite');
    const server = await spawnServer({ SQLITE_PATH: dbPath });
    const a = (await ChatClient.join(server.wsUrl)).client;
    const b = (await ChatClient.join(server.wsUrl)).client;

    for (let i = 0; i < 50; i++) a.send('message', { message: `last ${i}` });
    await a.nextOfType('message'); // the burst is being processed
    server.child.kill('SIGTERM');

    await expect(a.waitClosed()).resolves.toEqual({ code: 1001, reason: 'Server shutting down' });
    await expect(b.waitClosed()).resolves.toMatchObject({ code: 1001 });
    await expect(withTimeout(server.exited, 10000, 'exit')).resolves.toEqual({ code: 0, signal: null });
    const done = server
      .output()
      .split('\n')
      .filter((l) => l.includes('shutdown complete'))
      .map((l) => JSON.parse(l) as { shutdown: { clientsClosed: number; writesFlushed: number } });
    expect(done).toEqual([expect.objectContaining({ shutdown: { clientsClosed: 2, writesFlushed: expect.any(Number) } })]);
    // Those still queued or arriving during the close handshakes: at most the burst.
    expect(done[0].shutdown.writesFlushed).toBeLessThanOrEqual(50);
    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare('SELECT body FROM messages ORDER BY id').all() as Array<{ body: string }>;
    db.close();
    // Every message sent before the signal was stored, once and in order, even those not yet broadcast.
    expect(rows.map((r) => r.body)).toEqual(Array.from({ length: 50 }, (_, i) => `last ${i}`));
  });

  it('keeps history across a restart on the same SQLite file (SIGINT also exits 0)', async () => {
    const dbPath = join(dir, 'nested', 'chat.sqlite');
    const first = await spawnServer({ SQLITE_PATH: dbPath });
    const writer = (await ChatClient.join(first.wsUrl)).client;
    writer.send('message', { message: 'before restart 1' });
    writer.send('message', { message: 'before restart 2' });
    const sent = await writer.collect('message', 2);
    first.child.kill('SIGINT');
    await expect(withTimeout(first.exited, 10000, 'exit')).resolves.toEqual({ code: 0, signal: null });

    const second = await spawnServer({ SQLITE_PATH: dbPath });
    const reader = await ChatClient.join(second.wsUrl);
    try {
      expect(reader.history.messages).toEqual(sent);
      reader.client.send('message', { message: 'after restart' });
      const next = await reader.client.nextOfType('message');
      expect(next.id).toBe((sent[1].id as number) + 1);
    } finally {
      await reader.client.close();
      second.child.kill('SIGTERM');
      await withTimeout(second.exited, 10000, 'exit');
    }
  });

  it('refuses to start with an invalid configuration, naming the bad variable', async () => {
    const { code, output } = await runFailingServer({ PORT: 'http', SQLITE_PATH: join(dir, 'x.sqlite') });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration');
    expect(output).toContain('PORT="http"');
  });

  it('in-process close also sends 1001 (the path tests and embedders use)', async () => {
    const server = await startServer();
    const client = (await ChatClient.join(server.wsUrl)).client;
    await server.close();
    await expect(client.waitClosed()).resolves.toMatchObject({ code: 1001 });
  });
});

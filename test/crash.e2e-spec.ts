import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { spawnServer } from './support/server-process';

const CLIENTS = 4;
const PER_CLIENT = 300;
const KILL_AFTER_ACKS = 250;

interface StoredMessage {
  id: number;
  clientMsgId?: string;
  message: string;
}

/** Every stored general message, paging backwards from the newest, returned oldest first. */
async function readAll(port: number): Promise<StoredMessage[]> {
  const pages: StoredMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/api/messages?limit=200${before ? `&before=${before}` : ''}`, {
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { messages: StoredMessage[]; hasMore: boolean };
    pages.unshift(page.messages);
    if (!page.hasMore) return pages.flat();
    before = page.messages[0].id;
  }
}

describe('crash safety (e2e)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-crash-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('after SIGKILL mid-burst, every acked message is stored exactly once and every delivered one is stored', async () => {
    const dbPath = join(dir, 'chat.sqlite');
    const first = await spawnServer({ SQLITE_PATH: dbPath });
    const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => (await ChatClient.join(first.wsUrl)).client));
    const acks = new Map<string, number>();
    const delivered = new Map<number, Frame>();
    let killed = false;
    const killed$ = new Promise<void>((resolve) => {
      for (const client of clients) {
        client.socket.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString()) as Frame;
          if (frame.type === 'message') delivered.set(frame.id as number, frame);
          if (frame.type === 'ack') acks.set(frame.clientMsgId as string, frame.id as number);
          if (!killed && acks.size >= KILL_AFTER_ACKS) {
            killed = true;
            first.child.kill('SIGKILL');
            resolve();
          }
        });
      }
    });

    // Each client streams its messages in small slices so the burst spans many group commits.
    const sending = clients.map(async (client, k) => {
      for (let i = 0; i < PER_CLIENT && !killed; i++) {
        client.send('message', { message: `c${k} m${i}`, clientMsgId: `c${k}-${i}` });
        if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      }
    });
    await withTimeout(killed$, 15000, 'the kill');
    await Promise.all(sending);
    await expect(withTimeout(first.exited, 5000, 'exit')).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    await Promise.all(clients.map((c) => c.waitClosed()));
    expect(acks.size).toBeLessThan(CLIENTS * PER_CLIENT); // the kill really came mid-burst

    const second = await spawnServer({ SQLITE_PATH: dbPath });
    try {
      const stored = await readAll(second.port);
      const byClientMsgId = new Map<string, StoredMessage[]>();
      for (const m of stored) byClientMsgId.set(m.clientMsgId!, [...(byClientMsgId.get(m.clientMsgId!) ?? []), m]);

      for (const [clientMsgId, id] of acks) {
        expect({ clientMsgId, stored: byClientMsgId.get(clientMsgId)?.map((m) => m.id) }).toEqual({ clientMsgId, stored: [id] });
      }
      const storedIds = new Set(stored.map((m) => m.id));
      for (const [id, frame] of delivered) {
        expect({ id, inStore: storedIds.has(id) }).toEqual({ id, inStore: true });
        expect(byClientMsgId.get(frame.clientMsgId as string)?.[0].id).toBe(id);
      }
      expect([...byClientMsgId.values()].filter((copies) => copies.length > 1)).toEqual([]);
      expect(stored.length).toBeGreaterThanOrEqual(acks.size);
    } finally {
      second.child.kill('SIGTERM');
      await withTimeout(second.exited, 10000, 'exit');
    }
  });
});

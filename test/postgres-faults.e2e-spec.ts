import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChatClient } from './support/chat-client';
import { describeWithPostgres, TEST_POSTGRES_URL } from './support/services';
import { getJson, startServer, type TestServer } from './support/test-app';

const UNAVAILABLE = 'The message store is unavailable; nothing was stored or sent, try again';
const unavailable = (clientMsgId: string) => ({ type: 'error', code: 'UNAVAILABLE', message: UNAVAILABLE, event: 'message', clientMsgId });

/** Polls GET `path` every 100 ms until it answers `status`. */
async function until(server: TestServer, path: string, status: number, timeoutMs = 15_000): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await getJson(`${server.httpUrl}${path}`);
    if (res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`GET ${path} still answers ${res.status} after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * PostgreSQL going away under a running server, for this server only: the app signs in as a role of
 * its own, and the outage is that role losing LOGIN while its sessions are terminated (what a
 * stopped or unreachable server looks like to the pool: connections die, new ones are refused).
 * The PostgreSQL itself stays up for every other suite and helper.
 */
describeWithPostgres('PostgreSQL down (e2e)', () => {
  let admin: DataSource;
  let role: string;
  let server: TestServer | undefined;
  const clients: ChatClient[] = [];

  const outage = async (): Promise<void> => {
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
  };
  const recovery = () => admin.query(`ALTER ROLE ${role} LOGIN`);

  beforeEach(async () => {
    role = `chat_fault_${randomBytes(4).toString('hex')}`;
    admin = new DataSource({ type: 'postgres', url: TEST_POSTGRES_URL, poolSize: 1 });
    await admin.initialize();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await admin.query(`DROP SCHEMA ${role} CASCADE`);
    await admin.query(`DROP ROLE ${role}`);
    await admin.destroy();
  });

  it('answers UNAVAILABLE, broadcasts nothing and is not ready while PostgreSQL is gone, then recovers without a restart', async () => {
    const url = new URL(TEST_POSTGRES_URL!);
    url.username = role;
    url.password = '';
    server = await startServer({ DATABASE_URL: url.toString(), DATABASE_SCHEMA: role });
    const { client: alice } = await ChatClient.join(server.wsUrl);
    const { client: bob } = await ChatClient.join(server.wsUrl);
    clients.push(alice, bob);
    alice.send('message', { message: 'before', clientMsgId: 'c-1' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'before', clientMsgId: 'c-1' });
    await expect(getJson(`${server.httpUrl}/health/ready`)).resolves.toMatchObject({ status: 200 });

    await outage();
    alice.send('message', { message: 'during', clientMsgId: 'c-2' });

    await expect(alice.nextOfType('error', 10_000)).resolves.toEqual(unavailable('c-2'));
    await expect(until(server, '/health/ready', 503)).resolves.toMatchObject({
      body: { status: 'error', error: { database: { status: 'down', reason: expect.stringContaining('group commit of 1 message(s) failed') } } },
    });
    await bob.expectNoMore('message');

    await recovery();
    await until(server, '/health/ready', 200);
    alice.send('message', { message: 'after', clientMsgId: 'c-3' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'after', clientMsgId: 'c-3' });
    await expect(alice.next((f) => f.type === 'ack' && f.clientMsgId === 'c-3')).resolves.toMatchObject({ id: expect.any(Number) });
    const { body } = await getJson(`${server.httpUrl}/api/messages`);
    expect((body as { messages: Array<{ message: string }> }).messages.map((m) => m.message)).toEqual(['before', 'after']);
  }, 60_000);
});

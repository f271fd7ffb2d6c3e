import { spawn, type ChildProcess } from 'node:child_process';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { startCluster, type Cluster } from './support/cluster';
import { describeWithCluster } from './support/services';
import { freePort } from './support/server-process';

/** A Redis of this suite's own (the shared one serves other suites): killed and restarted on its port. */
class PrivateRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
      }),
      5000,
      'redis-server to start',
    );
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await withTimeout(exited, 5000, 'redis-server to exit');
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

/** Polls `check` every 50 ms until it returns true, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeWithCluster('cluster: Redis down and back (e2e)', () => {
  let redis: PrivateRedis;
  let cluster: Cluster;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    cluster = await startCluster(2, { REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    await redis?.kill();
  });

  async function connect(node: number, query = ''): Promise<ChatClient> {
    const client = await ChatClient.connect(`${cluster.nodes[node].url}${query}`);
    clients.push(client);
    await client.nextOfType('welcome');
    await client.next((f) => f.type === 'notification' || f.type === 'resumed');
    return client;
  }

  const said = (text: string) => (f: Frame) => f.type === 'message' && f.message === text;

  it('keeps local clients chatting, reports degraded readiness, resubscribes, and lets clients resume what they missed', async () => {
    const [node0, node1] = cluster.nodes;
    const alice = await connect(0);
    const bob = await connect(0);
    const carol = await connect(1);
    alice.send('message', { message: 'before', room: 'general' });
    const before = await carol.next(said('before'));
    await expect(getJson(`${node0.http}/health/ready`)).resolves.toMatchObject({ status: 200, body: { info: { redis: { status: 'up', state: 'connected' } } } });

    await redis.kill();
    await until(async () => (await metric(node0.http, 'chat_redis_up')) === 0 && (await metric(node1.http, 'chat_redis_up')) === 0, 5000, 'both nodes to see Redis gone');
    const ready = await getJson(`${node0.http}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up', state: 'degraded', outageSince: expect.any(String) } } });
    expect(await metric(node0.http, 'chat_redis_outages_total')).toBe(1);

    // Each node serves its own clients: acked, stored, delivered locally.
    alice.send('message', { message: 'during-0', room: 'general', clientMsgId: 'd0' });
    await alice.next((f) => f.type === 'ack' && f.clientMsgId === 'd0');
    await bob.next(said('during-0'));
    carol.send('message', { message: 'during-1', room: 'general', clientMsgId: 'd1' });
    await carol.next((f) => f.type === 'ack' && f.clientMsgId === 'd1');
    await carol.next(said('during-1'));
    expect(carol.frames.some(said('during-0'))).toBe(false);
    expect(alice.frames.some(said('during-1'))).toBe(false);

    // Back: every client is closed with 1012 so that it resumes what the other node had.
    await redis.start();
    for (const client of [alice, bob, carol]) await expect(client.waitClosed(8000)).resolves.toEqual({ code: 1012, reason: 'cluster resync' });
    await until(async () => (await metric(node0.http, 'chat_redis_up')) === 1 && (await metric(node1.http, 'chat_redis_up')) === 1, 5000, 'both nodes to see Redis back');
    await expect(getJson(`${node1.http}/health/ready`)).resolves.toMatchObject({ status: 200, body: { info: { redis: { state: 'connected' } } } });

    const since = `?since=${before.id as number}&rooms=general`;
    const aliceBack = await connect(1, since);
    const carolBack = await connect(0, since);
    for (const client of [aliceBack, carolBack]) {
      expect(client.frames.filter((f) => f.type === 'message').map((f) => f.message)).toEqual(['during-0', 'during-1']);
    }

    // Resubscribed on their own: live traffic crosses nodes again, once.
    aliceBack.send('message', { message: 'after', room: 'general' });
    await carolBack.next(said('after'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(carolBack.frames.filter(said('after'))).toHaveLength(1);
  }, 60000);
});

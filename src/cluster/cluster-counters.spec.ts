import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ClusterCounters } from './cluster-counters';
import { RedisConnection } from './redis-connection';

// The machine's Redis, as test/support/services-setup.js found it (unit specs do not import test/).
const REDIS_URL = process.env.TEST_REDIS_URL;
const describeWithRedis = REDIS_URL ? describe : describe.skip;

describeWithRedis(ClusterCounters.name, () => {
  const TTL_MS = 300;
  let prefix: string;
  let connections: RedisConnection[];
  let counters: ClusterCounters[];

  async function node(id: string): Promise<ClusterCounters> {
    const redis = new RedisConnection({ url: REDIS_URL!, prefix, instanceId: id });
    await redis.connect();
    connections.push(redis);
    const sut = new ClusterCounters(redis, TTL_MS);
    counters.push(sut);
    return sut;
  }

  // The connections' outage and recovery lines are what the RedisConnection spec is about, not this one.
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    prefix = `test-${randomBytes(6).toString('hex')}`;
    connections = [];
    counters = [];
  });

  afterEach(async () => {
    for (const sut of counters) await sut.close();
    const redis = connections.find((c) => c.isUp);
    if (redis) {
      const keys = await redis.command.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.command.del(...keys);
    }
    for (const c of connections) c.close();
  });

  it('takes a place in each field while each is under its cap summed over the nodes, else names the full one; gives it back', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await expect(a.take(['total', 'a:10.0.0.1'], [3, 2])).resolves.toBe(-1);
    await expect(b.take(['total', 'a:10.0.0.1'], [3, 2])).resolves.toBe(-1);
    // The address has 2 across the nodes: full (index 1); the total (2 of 3) is not.
    await expect(a.take(['total', 'a:10.0.0.1'], [3, 2])).resolves.toBe(1);
    await expect(b.take(['total', 'a:10.0.0.2'], [3, 2])).resolves.toBe(-1);
    await expect(a.take(['total', 'a:10.0.0.3'], [3, 2])).resolves.toBe(0);

    b.give(['total', 'a:10.0.0.1']);
    await expect(a.take(['total', 'a:10.0.0.1'], [3, 2])).resolves.toBe(-1);
  });

  it("stops counting a node that stopped renewing (killed) once its TTL lapses", async () => {
    const [a, b] = [await node('a'), await node('b')];
    await expect(b.take(['u:bob'], [1])).resolves.toBe(-1);
    await expect(a.take(['u:bob'], [1])).resolves.toBe(0);

    // b's process is gone: its Redis connection drops and nothing renews its hash.
    connections[1].close();
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 200));

    await expect(a.take(['u:bob'], [1])).resolves.toBe(-1);
  });

  it('keeps a live node counted past its TTL (renewed every third of it)', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await expect(b.take(['u:bob'], [1])).resolves.toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 3));
    await expect(a.take(['u:bob'], [1])).resolves.toBe(0);
  });

  it('answers undefined while Redis cannot be asked: the node goes by its own counts', async () => {
    const a = await node('a');
    connections[0].close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(a.take(['total'], [1])).resolves.toBeUndefined();
  });
});

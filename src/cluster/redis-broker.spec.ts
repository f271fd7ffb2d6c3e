import type { Delivery } from '../hub/broker';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { encodeDelivery } from './delivery-codec';
import { RedisBroker } from './redis-broker';
import type { RedisConnection } from './redis-connection';

/** A RedisConnection stand-in: PUBLISH answers as each test says; messages are handed in by hand. */
function fakeRedis(publish: (channel: string, message: Buffer) => Promise<number>) {
  let onMessage: (channel: Buffer, message: Buffer) => void = () => undefined;
  const redis = {
    instanceId: 'node-a',
    isUp: true,
    key: (...parts: string[]) => ['p', ...parts].join(':'),
    onStatus: () => undefined,
    command: { publish: jest.fn(publish) },
    subscriber: {
      on: (_event: string, handler: typeof onMessage) => (onMessage = handler),
      subscribe: () => Promise.resolve(1),
    },
  };
  return { redis, message: (delivery: Delivery, origin: string) => onMessage(Buffer.from('p:deliveries'), encodeDelivery(delivery, origin)) };
}

const delivery = (except = 0): Delivery => ({ audience: { kind: 'room', room: 'general' }, data: Buffer.from('{"type":"typing"}'), messageId: 0, except });

describe(RedisBroker.name, () => {
  let metrics: ChatMetrics;
  let received: Delivery[];

  beforeEach(() => {
    metrics = new ChatMetrics();
    received = [];
  });

  async function broker(fake: ReturnType<typeof fakeRedis>): Promise<RedisBroker> {
    const sut = new RedisBroker(fake.redis as unknown as RedisConnection, metrics);
    sut.subscribe((d) => received.push(d));
    await sut.start();
    return sut;
  }

  it('delivers its own publish when it comes back from Redis, not before', async () => {
    const fake = fakeRedis(() => Promise.resolve(2));
    const sut = await broker(fake);
    sut.publish(delivery(7));
    await sut.settle();
    expect(received).toEqual([]);
    fake.message(delivery(7), 'node-a');
    expect(received).toEqual([delivery(7)]);
  });

  it("drops another node's except: session ids and user keys mean nothing here", async () => {
    const fake = fakeRedis(() => Promise.resolve(2));
    await broker(fake);
    fake.message(delivery(7), 'node-b');
    expect(received).toEqual([delivery(0)]);
  });

  it('settles once every PUBLISH issued so far is answered', async () => {
    const answers: Array<() => void> = [];
    const sut = await broker(fakeRedis(() => new Promise<number>((resolve) => answers.push(() => resolve(1)))));
    sut.publish(delivery());
    sut.publish(delivery());
    let settled = false;
    void sut.settle().then(() => (settled = true));
    answers[0]();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    answers[1]();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
  });

  it('delivers locally at once, and counts it, when its PUBLISH fails', async () => {
    const sut = await broker(fakeRedis(() => Promise.reject(new Error('Connection is closed.'))));
    sut.publish(delivery());
    await sut.settle();
    expect(received).toEqual([delivery()]);
    expect((await metrics.redisPublishFailures.get()).values[0].value).toBe(1);
  });

  it('delivers locally at once while Redis is down, without trying to publish', async () => {
    const fake = fakeRedis(() => Promise.resolve(1));
    fake.redis.isUp = false;
    const sut = await broker(fake);
    sut.publish(delivery());
    expect(received).toEqual([delivery()]);
    expect(fake.redis.command.publish).not.toHaveBeenCalled();
  });
});

import { LocalClusterBus, type ClusterBus } from '../hub/cluster-bus';
import { ModerationRelay, REPLY_WAIT_MS, type ModerationMessage, type Reach } from './moderation-relay';

/** Nodes joined as Redis would join them: a publish runs the node's own handlers, then every other node's. */
class LinkedBus extends LocalClusterBus implements ClusterBus {
  override readonly clustered = true;
  readonly peers: LinkedBus[] = [];

  override publish(topic: string, payload: unknown): void {
    super.publish(topic, payload);
    const copy: unknown = JSON.parse(JSON.stringify(payload));
    for (const peer of this.peers) peer.dispatch(topic, copy, this.instanceId);
  }
}

function linked(ids: string[]): LinkedBus[] {
  const buses = ids.map((id) => new LinkedBus(id));
  for (const bus of buses) bus.peers.push(...buses.filter((other) => other !== bus));
  return buses;
}

describe(ModerationRelay.name, () => {
  const ban = { kind: 'user' as const, target: 'bob', until: null, reason: null, actor: 'root', at: 1 };

  it('on one node publishes nothing and asks nobody', async () => {
    const bus = new LocalClusterBus();
    const seen: unknown[] = [];
    bus.subscribe('moderation', (payload) => seen.push(payload));
    const sut = new ModerationRelay(bus, () => undefined);

    sut.publish({ op: 'unban', kind: 'user', target: 'bob' });

    await expect(sut.ask({ op: 'kick', ref: 'bob' })).resolves.toEqual([]);
    expect(seen).toEqual([]);
    expect(sut.clustered).toBe(false);
  });

  it('applies a change on every other node, never on the one that made it', () => {
    const [a, b, c] = linked(['a', 'b', 'c']);
    const applied: Record<string, ModerationMessage[]> = { a: [], b: [], c: [] };
    const sut = new ModerationRelay(a, (m) => void applied.a.push(m));
    new ModerationRelay(b, (m) => void applied.b.push(m));
    new ModerationRelay(c, (m) => void applied.c.push(m));

    sut.publish({ op: 'unban', kind: 'user', target: 'bob' });

    expect(applied).toEqual({ a: [], b: [{ op: 'unban', kind: 'user', target: 'bob' }], c: [{ op: 'unban', kind: 'user', target: 'bob' }] });
  });

  it("collects the other nodes' answers to a kick or ban for REPLY_WAIT_MS", async () => {
    jest.useFakeTimers();
    try {
      const [a, b, c] = linked(['a', 'b', 'c']);
      const sut = new ModerationRelay(a, () => ({ closed: 99 }));
      new ModerationRelay(b, (m): Reach => (m.op === 'ban' ? { closed: 2 } : { closed: 0 }));
      new ModerationRelay(c, (m): Reach => (m.op === 'ban' ? { closed: 1, user: 'bob', userId: 'bob' } : { closed: 0 }));

      const answers = sut.ask({ op: 'ban', ban });
      await jest.advanceTimersByTimeAsync(REPLY_WAIT_MS);

      await expect(answers).resolves.toEqual([{ closed: 2 }, { closed: 1, user: 'bob', userId: 'bob' }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ignores answers to another request and answers addressed to another node', async () => {
    jest.useFakeTimers();
    try {
      const [a, b] = linked(['a', 'b']);
      const sut = new ModerationRelay(a, () => undefined);
      new ModerationRelay(b, () => ({ closed: 1 }));

      const answers = sut.ask({ op: 'find', ref: 'bob' });
      b.publish('moderation', { op: 'reach', request: 'another', to: 'a', reach: { closed: 5 } });
      b.publish('moderation', { op: 'reach', request: 'x', to: 'c', reach: { closed: 7 } });
      await jest.advanceTimersByTimeAsync(REPLY_WAIT_MS);

      await expect(answers).resolves.toEqual([{ closed: 1 }]);
    } finally {
      jest.useRealTimers();
    }
  });
});

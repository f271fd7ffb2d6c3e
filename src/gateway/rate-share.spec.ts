import { LocalClusterBus, type ClusterBus } from '../hub/cluster-bus';
import { FrameVerdict, RateLimits } from './rate-limit';
import { RATE_TOPIC, RateShare, SHARE_INTERVAL_MS } from './rate-share';

/** Two nodes joined as Redis would join them. */
class LinkedBus extends LocalClusterBus implements ClusterBus {
  override readonly clustered = true;
  peer?: LinkedBus;

  override publish(topic: string, payload: unknown): void {
    super.publish(topic, payload);
    this.peer?.dispatch(topic, JSON.parse(JSON.stringify(payload)), this.instanceId);
  }
}

describe(RateShare.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("gives a user connected to two nodes one budget: what one node takes, the other's bucket loses within SHARE_INTERVAL_MS", () => {
    const [busA, busB] = [new LinkedBus('a'), new LinkedBus('b')];
    busA.peer = busB;
    busB.peer = busA;
    const sent: unknown[] = [];
    busB.subscribe(RATE_TOPIC, (payload, from) => from === 'a' && sent.push(payload));
    const [limitsA, limitsB] = [new RateLimits({ perSecond: 1, burst: 10 }, true), new RateLimits({ perSecond: 1, burst: 10 }, true)];
    const shares = [new RateShare(busA, limitsA), new RateShare(busB, limitsB)];
    const onA = limitsA.open('u1', 0);
    const onB = limitsB.open('u1', 0);

    for (let i = 0; i < 10; i++) expect(onA.check(0)).toBe(FrameVerdict.Take);
    jest.advanceTimersByTime(SHARE_INTERVAL_MS);

    expect(sent).toEqual([[['u1', 10]]]);
    expect(onB.check(0)).toBe(FrameVerdict.DropAndNotify);
    // Nothing more to tell: a quiet node publishes nothing.
    jest.advanceTimersByTime(SHARE_INTERVAL_MS * 5);
    expect(sent).toHaveLength(1);
    for (const share of shares) share.stop();
  });
});

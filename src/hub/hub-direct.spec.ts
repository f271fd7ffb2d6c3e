import { ChatMetrics } from '../metrics/chat-metrics.service';
import type { DirectFrame, NickUpdateFrame } from '../protocol/frames';
import type { Identity } from '../protocol/identity';
import type { Broker, Delivery } from './broker';
import { DIRECT_HOLD } from './direct-hold';
import { FakeTransport } from './fake-transport';
import { Hub } from './hub';
import { LocalBroker } from './local-broker';
import type { Session } from './session';

/** A LocalBroker that also records what was published. */
class RecordingBroker implements Broker {
  readonly published: Delivery[] = [];
  private readonly local = new LocalBroker();

  publish(delivery: Delivery): void {
    this.published.push(delivery);
    this.local.publish(delivery);
  }

  subscribe(receive: (delivery: Delivery) => void): void {
    this.local.subscribe(receive);
  }
}

interface Client {
  session: Session;
  transport: FakeTransport;
}

const identity = (userId: string, nickname = userId): Identity => ({ userId, nickname, roles: [], expiresAt: Date.now() + 300_000 });

const direct = (id: number, fromId = 'u-alice', toId = 'u-bob'): DirectFrame => ({
  type: 'direct',
  id,
  from: fromId.slice(2),
  to: toId.slice(2),
  message: `d${id}`,
  sentAt: '2026-11-21T23:44:19.123Z',
  fromId,
  toId,
});
/** A frame to everyone (no room, no user): never held under DIRECT_HOLD. */
const renamed = (n: number): NickUpdateFrame => ({ type: 'nick_update', nickname: `carol${n}`, previous: 'carol', message: `carol is now known as carol${n}` });

// Direct messages to user ids (jwt mode): every connection of the users, and the DIRECT_HOLD key.
describe(`${Hub.name} direct messages to users`, () => {
  let broker: RecordingBroker;
  let sut: Hub;

  beforeEach(() => {
    broker = new RecordingBroker();
    sut = new Hub(broker, new ChatMetrics(), { presenceBatchThreshold: 100, presenceBatchMs: 1000, nickHoldMs: 30_000, identified: true });
  });

  afterEach(() => sut.onModuleDestroy());

  /** A connection of `userId` (anonymous when undefined), in no room, live unless told otherwise. */
  function open(userId: string | undefined, live = true): Client {
    const transport = new FakeTransport();
    const session = sut.open(transport, '127.0.0.1', undefined, userId === undefined ? undefined : identity(userId));
    sut.enter(session, []);
    if (live) sut.goLive(session);
    transport.clear();
    return { session, transport };
  }

  it('reaches every connection of each user once, and nobody else', () => {
    const alice1 = open('u-alice');
    const alice2 = open('u-alice');
    const bob1 = open('u-bob');
    const bob2 = open('u-bob');
    const carol = open('u-carol');
    const guest = open(undefined);

    sut.toUserIds(['u-alice', 'u-bob', 'u-alice'], direct(7));

    for (const client of [alice1, alice2, bob1, bob2]) expect(client.transport.frames()).toEqual([direct(7)]);
    expect(carol.transport.written).toEqual([]);
    expect(guest.transport.written).toEqual([]);
  });

  it('goes through the broker once, with the user ids and the direct message id', () => {
    open('u-alice');
    broker.published.length = 0;

    sut.toUserIds(['u-alice', 'u-bob'], direct(7));

    expect(broker.published).toEqual([{ audience: { kind: 'userIds', userIds: ['u-alice', 'u-bob'] }, data: expect.any(Buffer), messageId: 7, except: 0 }]);
    expect(JSON.parse(broker.published[0].data.toString('utf8'))).toStrictEqual(direct(7));
  });

  it('holds it for a connecting session, which drops at going live the ones at or below its DIRECT_HOLD id', () => {
    const bob = open('u-bob', false);

    sut.toUserIds(['u-bob'], direct(5));
    sut.toAll(renamed(6));
    sut.toUserIds(['u-bob'], direct(7));
    expect(bob.transport.written).toEqual([]);

    sut.goLive(bob.session, new Map([[DIRECT_HOLD, 5]]));

    expect(bob.transport.frames()).toEqual([renamed(6), direct(7)]);
  });

  it('holds the direct messages of a live session between holdDirect and releaseDirect, minus those up to the id released with', () => {
    const bob = open('u-bob');
    expect(sut.holdDirect(bob.session)).toBe(true);
    expect(sut.holdDirect(bob.session)).toBe(false); // already held: the first hold releases

    sut.toUserIds(['u-bob'], direct(5));
    sut.toAll(renamed(6)); // not held: only direct messages are
    sut.toUserIds(['u-bob'], direct(8));
    expect(bob.transport.frames()).toEqual([renamed(6)]);

    sut.releaseDirect(bob.session, 5);
    expect(bob.transport.frames()).toEqual([renamed(6), direct(8)]);
    sut.toUserIds(['u-bob'], direct(9));
    expect(bob.transport.frames()).toEqual([renamed(6), direct(8), direct(9)]);
  });

  it('does not hold for a closed session', () => {
    const bob = open('u-bob');
    sut.close(bob.session);
    expect(sut.holdDirect(bob.session)).toBe(false);
  });

  describe('receivesDirectLive', () => {
    it('is true once a connection of the user is live and not reading direct messages', () => {
      expect(sut.receivesDirectLive('u-bob')).toBe(false); // offline

      const connecting = open('u-bob', false);
      expect(sut.receivesDirectLive('u-bob')).toBe(false); // its direct messages are still being read

      sut.goLive(connecting.session);
      expect(sut.receivesDirectLive('u-bob')).toBe(true);
      expect(sut.receivesDirectLive('u-alice')).toBe(false);

      sut.holdDirect(connecting.session);
      expect(sut.receivesDirectLive('u-bob')).toBe(false); // a resume replays them
      const other = open('u-bob');
      expect(sut.receivesDirectLive('u-bob')).toBe(true); // another device has them all

      sut.close(other.session);
      sut.releaseDirect(connecting.session, 0);
      expect(sut.receivesDirectLive('u-bob')).toBe(true);
      sut.close(connecting.session);
      expect(sut.receivesDirectLive('u-bob')).toBe(false);
    });

    it('is false for a connection marked behind (the DMs that waited for it could not be sent)', () => {
      const bob = open('u-bob');
      sut.markDirectBehind(bob.session);
      expect(sut.receivesDirectLive('u-bob')).toBe(false);
      open('u-bob');
      expect(sut.receivesDirectLive('u-bob')).toBe(true);
    });

    it('is false for an anonymous connection whose nickname is the user id', () => {
      const guest = open(undefined);
      sut.rename(guest.session, 'u-bob');
      expect(sut.receivesDirectLive('u-bob')).toBe(false);
    });
  });
});

import type { Delivery } from './broker';
import { LocalBroker } from './local-broker';

const delivery = (room: string): Delivery => ({ audience: { kind: 'room', room }, data: Buffer.from(room), messageId: 0, except: 0 });

describe(LocalBroker.name, () => {
  let sut: LocalBroker;

  beforeEach(() => {
    sut = new LocalBroker();
  });

  it('hands every publish to the subscriber at once, in call order, as the same object', () => {
    const received: Delivery[] = [];
    sut.subscribe((d) => received.push(d));
    const first = delivery('a');
    const second = delivery('b');

    sut.publish(first);
    expect(received).toEqual([first]);
    sut.publish(second);

    expect(received).toHaveLength(2);
    expect(received[0]).toBe(first);
    expect(received[1]).toBe(second);
  });

  it('drops what is published before anyone subscribes', () => {
    const received: Delivery[] = [];
    sut.publish(delivery('early'));
    sut.subscribe((d) => received.push(d));

    expect(received).toEqual([]);
  });
});

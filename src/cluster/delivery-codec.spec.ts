import type { Delivery } from '../hub/broker';
import { decodeDelivery, encodeDelivery } from './delivery-codec';

describe('delivery codec', () => {
  const data = Buffer.from(JSON.stringify({ type: 'message', id: 7, message: 'héllo ✓' }));

  it.each<Delivery>([
    { audience: { kind: 'room', room: 'général' }, data, messageId: 2 ** 40, except: 12 },
    { audience: { kind: 'users', nicknames: ['Ann', 'Bob'] }, data, messageId: 0, except: 0 },
    { audience: { kind: 'userIds', userIds: ['u-1'] }, data, messageId: 99, except: 3, exceptUser: 'u-1' },
    { audience: { kind: 'everyone' }, data, messageId: 0, except: 0 },
  ])('carries a $audience.kind delivery and its frame bytes as they are', (delivery) => {
    const { delivery: decoded, origin } = decodeDelivery(encodeDelivery(delivery, 'node-a'));
    expect(origin).toBe('node-a');
    expect(decoded).toEqual(delivery);
    expect(decoded.data.equals(data)).toBe(true);
  });

  it('refuses a delivery of another version', () => {
    const encoded = encodeDelivery({ audience: { kind: 'everyone' }, data, messageId: 0, except: 0 }, 'n');
    encoded[0] = 9;
    expect(() => decodeDelivery(encoded)).toThrow('unknown delivery version 9');
  });
});

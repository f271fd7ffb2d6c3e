import { allowedOrigins } from '../config/allowed-origins';
import type { IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';
import { HandshakeLimits, originAllowed } from './handshake-limits';

describe(originAllowed.name, () => {
  const none = allowedOrigins(undefined);

  it.each([
    [undefined, 'chat.example.com'],
    ['https://chat.example.com', 'chat.example.com'],
    ['http://chat.example.com', 'chat.example.com'],
    ['https://chat.example.com', 'CHAT.example.com:443'],
    ['http://chat.example.com:8090', 'chat.example.com:8090'],
    ['http://[::1]:8090', '[::1]:8090'],
  ])('allows Origin %s with Host %s', (origin, host) => {
    expect(originAllowed(origin, host, none)).toBe(true);
  });

  it.each([
    ['https://evil.example', 'chat.example.com'],
    ['https://chat.example.com:8443', 'chat.example.com'],
    ['http://chat.example.com', 'chat.example.com:8090'],
    ['https://chat.example.com.evil.example', 'chat.example.com'],
    ['null', 'chat.example.com'],
    ['not a url', 'chat.example.com'],
    ['https://chat.example.com', undefined],
  ])('refuses Origin %s with Host %s', (origin, host) => {
    expect(originAllowed(origin, host, none)).toBe(false);
  });

  it('allows the origins listed, in any case and with a default port written out, and any with *', () => {
    const listed = allowedOrigins('https://App.example.com, http://localhost:3000');
    expect(originAllowed('https://app.example.com', 'api.example.com', listed)).toBe(true);
    expect(originAllowed('https://app.example.com:443', 'api.example.com', listed)).toBe(true);
    expect(originAllowed('http://localhost:3001', 'api.example.com', listed)).toBe(false);
    expect(originAllowed('null', 'api.example.com', allowedOrigins('*'))).toBe(true);
  });
});

describe(HandshakeLimits.name, () => {
  function request(address: string): IncomingMessage & { socket: EventEmitter } {
    const socket = Object.assign(new EventEmitter(), { remoteAddress: address });
    return { socket, headers: { host: 'chat.example.com' } } as unknown as IncomingMessage & { socket: EventEmitter };
  }

  it('gives its counts by the fields the cluster shares (total, a:<address>, u:<userId>), and gives them back on close', () => {
    const sut = new HandshakeLimits({ allowedOrigins: allowedOrigins(undefined), trust: () => false, maxPerAddress: 5, maxPerUser: 5, maxTotal: 10 });
    const first = request('10.0.0.1');
    expect(sut.admit(first)).toBeUndefined();
    expect(sut.admitUser(first, 'bob')).toBeUndefined();
    expect(sut.admit(request('10.0.0.1'))).toBeUndefined();
    expect(sut.admit(request('10.0.0.2'))).toBeUndefined();

    expect(sut.snapshot()).toEqual(new Map([['total', 3], ['a:10.0.0.1', 2], ['a:10.0.0.2', 1], ['u:bob', 1]]));
    first.socket.emit('close');
    expect(sut.snapshot()).toEqual(new Map([['total', 2], ['a:10.0.0.1', 1], ['a:10.0.0.2', 1]]));
  });
});

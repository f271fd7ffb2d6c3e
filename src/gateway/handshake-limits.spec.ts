import { allowedOrigins } from '../config/allowed-origins';
import { originAllowed } from './handshake-limits';

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

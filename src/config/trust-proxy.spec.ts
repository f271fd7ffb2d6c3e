import { clientAddress, proxyTrust, trustProxyProblems } from './trust-proxy';

describe(clientAddress.name, () => {
  const trust = proxyTrust('10.0.0.0/8, fd00::/8, 127.0.0.1');

  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('::ffff:192.0.2.1', '203.0.113.9', proxyTrust(undefined))).toBe('192.0.2.1');
  });

  it('walks X-Forwarded-For right to left while the hops are trusted proxies', () => {
    expect(clientAddress('::ffff:10.1.2.3', '203.0.113.9', trust)).toBe('203.0.113.9');
    expect(clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.5', trust)).toBe('203.0.113.9');
    expect(clientAddress('fd00::1', ['203.0.113.9', '10.0.0.5'], trust)).toBe('203.0.113.9');
  });

  it('stops at an entry that is not an address, at the proxy that passed it on', () => {
    expect(clientAddress('10.0.0.1', 'evil, 10.0.0.2', trust)).toBe('10.0.0.2');
  });

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientAddress('192.0.2.1', '203.0.113.9', trust)).toBe('192.0.2.1');
  });
});

describe(trustProxyProblems.name, () => {
  it('names every entry that is not an address or CIDR range', () => {
    expect(trustProxyProblems('10.0.0.0/8, ::1, 192.168.0.0/33, proxy.local')).toEqual([
      '"192.168.0.0/33": the prefix length must be 0 to 32',
      '"proxy.local" is not an IP address or CIDR range (10.0.0.0/8, fd00::/8, 127.0.0.1)',
    ]);
  });
});

import { BlockList, isIP } from 'node:net';

/** Whether a peer's X-Forwarded-For is believed: TRUST_PROXY's addresses and CIDR ranges. */
export type ProxyTrust = (address: string) => boolean;

/**
 * TRUST_PROXY as a predicate: a comma list of addresses and CIDR ranges (IPv4 or IPv6), held in
 * node's BlockList, which also matches an IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`) against an
 * IPv4 range. Unset or empty: no proxy is trusted, every client is its TCP peer.
 */
export function proxyTrust(value: string | undefined): ProxyTrust {
  const entries = trustProxyEntries(value);
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') throw new Error(`TRUST_PROXY: ${parsed}`);
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** What is wrong with each entry of TRUST_PROXY, for the startup check; empty when it is fine. */
export function trustProxyProblems(value: string | undefined): string[] {
  return trustProxyEntries(value)
    .map(parseEntry)
    .filter((p): p is string => typeof p === 'string');
}

function trustProxyEntries(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

function parseEntry(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | string {
  const [address, prefixText, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR range (10.0.0.0/8, fd00::/8, 127.0.0.1)`;
  if (prefixText === undefined) return { address, family: family === 4 ? 'ipv4' : 'ipv6' };
  const prefix = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > max) return `"${entry}": the prefix length must be 0 to ${max}`;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** An IPv4 peer of a dual-stack socket (`::ffff:10.0.0.1`) as the IPv4 address it is, so caps and logs see one form. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client's address: the TCP peer, or, while that peer is a trusted proxy, the X-Forwarded-For
 * entry before it, right to left (each proxy appends the address it got the request from). The
 * walk stops at the first address that is not a trusted proxy, so a client cannot forge its way in
 * by writing entries of its own (they sit to the left of what the proxy appended); an entry that
 * is not an address ends the walk at the proxy that passed it on. Fastify's trustProxy with the
 * same predicate (proxy-addr) walks the same way, so REST and the WebSocket agree.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: ProxyTrust): string {
  let address = normalizeAddress(peer ?? 'unknown');
  if (forwardedFor === undefined || !trust(address)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i].trim();
    if (isIP(hop) === 0) break;
    address = normalizeAddress(hop);
    if (!trust(address)) break;
  }
  return address;
}

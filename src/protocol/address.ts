import { isIPv4, isIPv6 } from 'node:net';

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * One spelling per client address, so that a ban matches whatever form a socket reports: an
 * IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, what a dual-stack listener sees) is its IPv4
 * address, and IPv6 is written the way the URL standard serializes it (lower case, compressed).
 * Anything that is not an IP address is returned as it is.
 */
export function canonicalAddress(address: string): string {
  const mapped = MAPPED_V4.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthFailure } from './auth-failure';

const BEARER = /^Bearer[ ]+([^ ]+)[ ]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme in any case);
 * undefined without the header. Another scheme, or a second header, is refused: `malformed`.
 */
export function bearerFromAuthorization(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw new AuthFailure('malformed', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}

/** The bearer token of an Authorization header where a token is optional: undefined when absent or malformed. */
export function optionalBearer(header: string | string[] | undefined): string | undefined {
  try {
    return bearerFromAuthorization(header);
  } catch {
    return undefined;
  }
}

/**
 * Whether two secrets are equal, in time that does not depend on where they differ or on the
 * length of the right one: both are hashed first, so timingSafeEqual compares equal lengths.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

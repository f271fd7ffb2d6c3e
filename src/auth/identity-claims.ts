import type { Identity } from '../protocol/identity';
import { AuthFailure } from './auth-failure';

/** Longest display name kept, in code points. */
export const MAX_DISPLAY_NAME = 64;
/** Longest `sub` taken: the users table keys on it (varchar(255)). */
export const MAX_USER_ID = 255;

const INVISIBLE = /[\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;
const WHITESPACE = /[\p{White_Space}]+/gu;

/**
 * An identity provider's name as this chat shows it: NFC, without control or default-ignorable
 * characters (zero-width, bidi controls), whitespace runs as one space, trimmed, at most 64 code
 * points. Not checked against the anonymous nickname rule: IdP names have spaces, dots and `@`.
 * '' when nothing is left, or when `value` is not a string.
 */
export function displayName(value: unknown): string {
  if (typeof value !== 'string') return '';
  const cleaned = value.normalize('NFC').replace(INVISIBLE, '').replace(WHITESPACE, ' ').trim();
  const points = [...cleaned];
  return points.length <= MAX_DISPLAY_NAME ? cleaned : points.slice(0, MAX_DISPLAY_NAME).join('').trimEnd();
}

/**
 * The roles in `claims[name]`: an array of strings (other entries are skipped), or one string.
 * A name with dots that is not itself a claim is read as a path (`realm_access.roles`, Keycloak);
 * a claim whose name has dots (`https://example.com/roles`, Auth0) is found first.
 */
export function rolesFrom(claims: Record<string, unknown>, name: string): string[] {
  let value: unknown = claims[name];
  if (value === undefined && name.includes('.')) {
    value = name.split('.').reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined), claims);
  }
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((role): role is string => typeof role === 'string' && role !== ''))];
}

/** A verified token's claims as the chat's Identity (`exp` and `sub` are present: the verifier requires them). */
export function identityFromClaims(claims: Record<string, unknown>, rolesClaim: string): Identity {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '' || sub.length > MAX_USER_ID) {
    throw new AuthFailure('missing_claim', `The token's subject (sub) must be a string of 1 to ${MAX_USER_ID} characters`);
  }
  const nickname = displayName(claims.preferred_username) || displayName(claims.name) || displayName(sub) || sub.slice(0, MAX_DISPLAY_NAME);
  return { userId: sub, nickname, roles: rolesFrom(claims, rolesClaim), expiresAt: Number(claims.exp) * 1000 };
}

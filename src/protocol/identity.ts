/**
 * Who is behind a connection or a request in `AUTH_MODE=jwt`, taken from a verified token's claims
 * (src/auth). Absent everywhere in anonymous mode.
 */
export interface Identity {
  /** The token's `sub`: stable, unique per user. */
  userId: string;
  /** `preferred_username`, else `name`, else `sub`, normalized for display: not unique. */
  nickname: string;
  /** The strings of the claim named by AUTH_ROLES_CLAIM (default `roles`). */
  roles: readonly string[];
  /** The token's `exp`, epoch ms. */
  expiresAt: number;
}

/** The role that makes a signed-in user an admin: moderation, the audit log, GET /metrics. */
export const ADMIN_ROLE = 'admin';

/** The user id of whoever presents ADMIN_TOKEN in jwt mode (a token's `sub` never starts with `@` in practice). */
export const ADMIN_TOKEN_USER_ID = '@admin';

/** Whether an identity carries the admin role. */
export function isAdmin(identity: Identity | undefined): boolean {
  return identity !== undefined && identity.roles.includes(ADMIN_ROLE);
}

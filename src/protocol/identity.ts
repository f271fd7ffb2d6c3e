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

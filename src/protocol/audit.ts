/**
 * What the audit log records (GET /api/admin/audit, `action=`). Every moderation action, edit,
 * deletion, refusal of a banned client, failed authentication, retention run, export and erasure.
 */
export const AUDIT_ACTIONS = [
  'auth_failed',
  'ban_refused',
  'edit',
  'delete',
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'slow_mode',
  'room_retention',
  'retention_run',
  'export',
  'erase',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One row of the audit log as the API returns it. Times are ISO 8601 UTC. */
export interface AuditRecord {
  id: number;
  at: string;
  /** Who did it: a user id (jwt mode; `@admin` for ADMIN_TOKEN), a nickname (anonymous mode), `system` for scheduled jobs, null when unknown (a failed sign-in). */
  actor: string | null;
  action: AuditAction;
  /** Whom or what it was done to: a user id, a nickname, an address, a message id. */
  target: string | null;
  room: string | null;
  reason: string | null;
  /** The client address the action came from, when it came from a client. */
  address: string | null;
}

/** Who a scheduled job acts as in the audit log. */
export const SYSTEM_ACTOR = 'system';

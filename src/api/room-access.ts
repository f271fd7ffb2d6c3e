import { ForbiddenException } from '@nestjs/common';
import type { Hub } from '../hub/hub';
import type { Identity } from '../protocol/identity';

/**
 * A private room's messages and members are for its members: 403 for anyone else, anonymous
 * callers included. The answer comes from the hub's copy of the memberships, without a read.
 */
export function assertMayRead(hub: Hub, room: string, user: Identity | undefined): void {
  if (hub.mayRead(room, user?.userId)) return;
  throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: `Room "${room}" is private: only its members can read it` });
}

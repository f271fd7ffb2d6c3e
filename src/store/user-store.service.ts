import { Injectable } from '@nestjs/common';
import type { StoreRunner } from './dialect';
import { DEFAULT_ROOM } from '../protocol/frames';
import { nicknameKey } from '../protocol/nickname';
import { StoreDatabase } from './store-database';

/** A user who signed in once (jwt mode), as the store returns it. */
export interface UserRecord {
  /** The token's `sub`. */
  id: string;
  nickname: string;
  roles: string[];
  /** ISO 8601 UTC. */
  firstSeen: string;
  lastSeen: string;
  /** The highest DM id delivered to the user (0: none yet). */
  dmDeliveredId: number;
}

export interface UserSighting {
  id: string;
  nickname: string;
  roles: readonly string[];
}

const USER_COLUMNS =
  'id, nickname, roles, first_seen AS "firstSeen", last_seen AS "lastSeen", dm_delivered_id AS "dmDeliveredId"';
const INSERT_USER =
  'INSERT INTO users (id, nickname, nickname_key, roles, first_seen, last_seen, dm_delivered_id) VALUES (?, ?, ?, ?, ?, ?, 0) ' +
  'ON CONFLICT (id) DO NOTHING';
const UPDATE_USER = 'UPDATE users SET nickname = ?, nickname_key = ?, roles = ?, last_seen = ? WHERE id = ?';
const JOIN_DEFAULT_ROOM = 'INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT (room, user_id) DO NOTHING';
const TOUCH_USER = 'UPDATE users SET last_seen = ? WHERE id = ?';
const USER_BY_ID = `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`;
const USERS_BY_NICKNAME_KEY = `SELECT ${USER_COLUMNS} FROM users WHERE nickname_key = ? ORDER BY id`;

type UserRow = Omit<UserRecord, 'roles'> & { roles: string };

/**
 * Users (jwt mode): recorded on every sign-in, so that others can address them while they are
 * away. Each write is a small transaction of its own on the shared StoreDatabase.
 */
@Injectable()
export class UserStore {
  constructor(private readonly database: StoreDatabase) {}

  /**
   * Records a sign-in: nickname, roles and last seen now. A user seen for the first time
   * (`created`) becomes a member of the default room in the same transaction.
   */
  upsertUser({ id, nickname, roles }: UserSighting): Promise<{ user: UserRecord; created: boolean }> {
    const now = new Date().toISOString();
    const key = nicknameKey(nickname);
    const rolesJson = JSON.stringify(roles);
    return this.database.write('recording a user', async (runner) => {
      const inserted = await runner.query(INSERT_USER, [id, nickname, key, rolesJson, now, now], true);
      const created = inserted.affected === 1;
      if (created) {
        await runner.query(JOIN_DEFAULT_ROOM, [DEFAULT_ROOM, id, now]);
      } else {
        await runner.query(UPDATE_USER, [nickname, key, rolesJson, now, id]);
      }
      const user = await userById(runner, id);
      if (!user) throw new Error(`user ${id} was written but cannot be read back`);
      return { user, created };
    });
  }

  /** Last seen now (on disconnect); false when no such user is recorded. */
  async touchUser(id: string): Promise<boolean> {
    const result = await this.database.write('recording when a user was last seen', (runner) =>
      runner.query(TOUCH_USER, [new Date().toISOString(), id], true),
    );
    return result.affected === 1;
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.database.read((runner) => userById(runner, id));
  }

  /**
   * The user whose id is exactly `nicknameOrId`; else every user whose nickname matches it
   * (compared by nicknameKey), by id: several when the nickname is shared, and the caller decides.
   */
  findUsers(nicknameOrId: string): Promise<UserRecord[]> {
    return this.database.read(async (runner) => {
      const byId = await userById(runner, nicknameOrId);
      if (byId) return [byId];
      const rows = (await runner.query(USERS_BY_NICKNAME_KEY, [nicknameKey(nicknameOrId)])) as UserRow[];
      return rows.map(toUser);
    });
  }
}

async function userById(runner: StoreRunner, id: string): Promise<UserRecord | null> {
  const rows = (await runner.query(USER_BY_ID, [id])) as UserRow[];
  return rows.length === 1 ? toUser(rows[0]) : null;
}

function toUser(row: UserRow): UserRecord {
  return { ...row, roles: parseRoles(row.roles) };
}

function parseRoles(json: string): string[] {
  try {
    const roles: unknown = JSON.parse(json);
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

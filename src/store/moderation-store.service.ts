import { Injectable } from '@nestjs/common';
import type { BanKind } from './ban.entity';
import { StoreDatabase } from './store-database';

/** A ban or a mute as stored. Times are ISO 8601 UTC; `expiresAt` null: until lifted. */
export interface StoredSanction {
  target: string;
  expiresAt: string | null;
  reason: string | null;
  actor: string | null;
  createdAt: string;
}

export interface StoredBan extends StoredSanction {
  kind: BanKind;
}

export interface StoredMute extends StoredSanction {
  room: string;
}

/** A room in slow mode, with its owner (who may change it, and is not held to it). */
export interface StoredSlowMode {
  room: string;
  seconds: number;
  ownerId: string | null;
}

const TERMS = 'target, expires_at AS "expiresAt", reason, actor, created_at AS "createdAt"';
const ACTIVE = '(expires_at IS NULL OR expires_at > ?)';
const PUT_BAN =
  'INSERT INTO bans (kind, target, expires_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?) ' +
  'ON CONFLICT (kind, target) DO UPDATE SET expires_at = excluded.expires_at, reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at';
const PUT_MUTE =
  'INSERT INTO mutes (room, target, expires_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?) ' +
  'ON CONFLICT (room, target) DO UPDATE SET expires_at = excluded.expires_at, reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at';
const SET_SLOW_MODE = 'UPDATE rooms SET slow_mode_seconds = ? WHERE name = ?';
// A public room nobody wrote in has no row yet: slow mode gives it one, as a first message would.
const INSERT_SLOW_ROOM = 'INSERT INTO rooms (name, last_message_id, slow_mode_seconds) VALUES (?, NULL, ?) ON CONFLICT (name) DO NOTHING';

/**
 * Bans, mutes and rooms' slow mode as stored (issue 13). The server reads them once at startup and
 * keeps them in memory (chat/moderation.service.ts); every change is written here as it is made.
 * Expired rows are deleted when read at startup.
 */
@Injectable()
export class ModerationStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Deletes the bans and mutes that ended before `now`, then returns the rest. */
  async active(now: Date): Promise<{ bans: StoredBan[]; mutes: StoredMute[] }> {
    const at = now.toISOString();
    await this.database.write('deleting ended bans and mutes', async (runner) => {
      await runner.query('DELETE FROM bans WHERE NOT ' + ACTIVE, [at]);
      await runner.query('DELETE FROM mutes WHERE NOT ' + ACTIVE, [at]);
    });
    return this.database.read(async (runner) => ({
      bans: (await runner.query(`SELECT kind, ${TERMS} FROM bans WHERE ${ACTIVE} ORDER BY created_at, kind, target`, [at])) as StoredBan[],
      mutes: (await runner.query(`SELECT room, ${TERMS} FROM mutes WHERE ${ACTIVE} ORDER BY created_at, room, target`, [at])) as StoredMute[],
    }));
  }

  /** Stores a ban, replacing any of the same target. */
  async putBan({ kind, target, expiresAt, reason, actor, createdAt }: StoredBan): Promise<void> {
    await this.database.write('storing a ban', (runner) => runner.query(PUT_BAN, [kind, target, expiresAt, reason, actor, createdAt]));
  }

  /** False when there was no such ban. */
  async removeBan(kind: BanKind, target: string): Promise<boolean> {
    const result = await this.database.write('removing a ban', (runner) => runner.query('DELETE FROM bans WHERE kind = ? AND target = ?', [kind, target], true));
    return result.affected === 1;
  }

  async putMute({ room, target, expiresAt, reason, actor, createdAt }: StoredMute): Promise<void> {
    await this.database.write('storing a mute', (runner) => runner.query(PUT_MUTE, [room, target, expiresAt, reason, actor, createdAt]));
  }

  async removeMute(room: string, target: string): Promise<boolean> {
    const result = await this.database.write('removing a mute', (runner) => runner.query('DELETE FROM mutes WHERE room = ? AND target = ?', [room, target], true));
    return result.affected === 1;
  }

  /** Every room with slow mode on. */
  slowModes(): Promise<StoredSlowMode[]> {
    const sql = 'SELECT name AS room, slow_mode_seconds AS seconds, owner_id AS "ownerId" FROM rooms WHERE slow_mode_seconds > 0 ORDER BY name';
    return this.database.read((runner) => runner.query(sql) as Promise<StoredSlowMode[]>);
  }

  async setSlowMode(room: string, seconds: number): Promise<void> {
    await this.database.write('setting slow mode', async (runner) => {
      const updated = await runner.query(SET_SLOW_MODE, [seconds, room], true);
      if (updated.affected === 0 && seconds > 0) await runner.query(INSERT_SLOW_ROOM, [room, seconds]);
    });
  }
}

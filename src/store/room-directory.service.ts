import { Injectable } from '@nestjs/common';
import { ROOMS } from './message-sql';
import type { StoredRoom } from './message-store.service';
import type { RoomVisibility } from './room.entity';
import { StoreDatabase } from './store-database';

export interface NewRoom {
  name: string;
  visibility: RoomVisibility;
  /** The creator, who becomes the owner and first member; null creates no membership (anonymous). */
  ownerId: string | null;
}

const INSERT_ROOM =
  'INSERT INTO rooms (name, last_message_id, visibility, owner_id, created_at) VALUES (?, NULL, ?, ?, ?) ON CONFLICT (name) DO NOTHING';
const HAS_MEMBERS = 'SELECT 1 AS found FROM room_members WHERE room = ? LIMIT 1';
const ROOM_BY_NAME = `${ROOMS} WHERE name = ?`;
const PRIVATE_ROOMS = `${ROOMS} WHERE visibility = 'private' ORDER BY name`;
const ADD_MEMBER = 'INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT (room, user_id) DO NOTHING';
const REMOVE_MEMBER = 'DELETE FROM room_members WHERE room = ? AND user_id = ?';
const IS_MEMBER = 'SELECT 1 AS found FROM room_members WHERE room = ? AND user_id = ?';
// Join order; equal times (one millisecond) by name, so the order is stable.
const ROOMS_OF_USER = 'SELECT room FROM room_members WHERE user_id = ? ORDER BY joined_at, room';
const MEMBERS_OF = 'SELECT user_id AS "userId" FROM room_members WHERE room = ? ORDER BY joined_at, user_id';
// Every private room's members with their nicknames (the user id for one never recorded), in one read.
const PRIVATE_ROOM_MEMBERS =
  'SELECT m.room AS room, m.user_id AS "userId", COALESCE(u.nickname, m.user_id) AS nickname FROM room_members m ' +
  "JOIN rooms r ON r.name = m.room AND r.visibility = 'private' LEFT JOIN users u ON u.id = m.user_id ORDER BY m.room, m.joined_at, m.user_id";

/** A member of a private room as loaded at startup. */
export interface PrivateRoomMember {
  room: string;
  userId: string;
  nickname: string;
}

/**
 * Rooms as stored (visibility, owner) and the users' stored membership of them (jwt mode): a
 * member stays one across disconnects and restarts until they leave or are removed. Each write
 * is a small transaction of its own on the shared StoreDatabase; the message path keeps rooms'
 * newest message ids (MessageStore).
 */
@Injectable()
export class RoomDirectory {
  constructor(private readonly database: StoreDatabase) {}

  /**
   * Creates a room with its owner as first member, in one transaction; `exists` (nothing written)
   * when a room of that name is stored, or a user is a member of it.
   */
  createRoom({ name, visibility, ownerId }: NewRoom): Promise<'created' | 'exists'> {
    const now = new Date().toISOString();
    return this.database.write('creating a room', async (runner) => {
      const members = (await runner.query(HAS_MEMBERS, [name])) as unknown[];
      if (members.length > 0) return 'exists';
      const inserted = await runner.query(INSERT_ROOM, [name, visibility, ownerId, now], true);
      if (inserted.affected !== 1) return 'exists';
      if (ownerId !== null) await runner.query(ADD_MEMBER, [name, ownerId, now]);
      return 'created';
    });
  }

  /** The stored room of that name, or null (a public room nobody wrote in or created has no row). */
  async roomInfo(name: string): Promise<StoredRoom | null> {
    const rows = await this.database.read((runner) => runner.query(ROOM_BY_NAME, [name]) as Promise<StoredRoom[]>);
    return rows[0] ?? null;
  }

  /** Every private room, by name. */
  privateRooms(): Promise<StoredRoom[]> {
    return this.database.read((runner) => runner.query(PRIVATE_ROOMS) as Promise<StoredRoom[]>);
  }

  /** The members of every private room with their nicknames, by room, in the order they joined: one read at startup. */
  privateRoomMembers(): Promise<PrivateRoomMember[]> {
    return this.database.read((runner) => runner.query(PRIVATE_ROOM_MEMBERS) as Promise<PrivateRoomMember[]>);
  }

  /** The user's rooms, in the order they joined them. */
  async roomsOfUser(userId: string): Promise<string[]> {
    const rows = await this.database.read((runner) => runner.query(ROOMS_OF_USER, [userId]) as Promise<Array<{ room: string }>>);
    return rows.map((row) => row.room);
  }

  /** The room's members (user ids), in the order they joined. */
  async membersOf(room: string): Promise<string[]> {
    const rows = await this.database.read((runner) => runner.query(MEMBERS_OF, [room]) as Promise<Array<{ userId: string }>>);
    return rows.map((row) => row.userId);
  }

  async isMember(room: string, userId: string): Promise<boolean> {
    const rows = await this.database.read((runner) => runner.query(IS_MEMBER, [room, userId]) as Promise<unknown[]>);
    return rows.length > 0;
  }

  /** Makes the user a member; false when they already were (nothing changed). */
  async addMember(room: string, userId: string): Promise<boolean> {
    const now = new Date().toISOString();
    const result = await this.database.write('adding a room member', (runner) => runner.query(ADD_MEMBER, [room, userId, now], true));
    return result.affected === 1;
  }

  /** Ends the user's membership; false when they were not a member (nothing changed). */
  async removeMember(room: string, userId: string): Promise<boolean> {
    const result = await this.database.write('removing a room member', (runner) => runner.query(REMOVE_MEMBER, [room, userId], true));
    return result.affected === 1;
  }
}

/**
 * The hold key of direct messages (jwt mode). A session holds its live `direct` frames under this
 * key while direct messages are read for it (the connect-time delivery of those that waited, a
 * resume's replay), as it holds a room's frames under the room's name, and drops those at or below
 * the last id it was sent. `@` is in no room name (protocol/room-name.ts), so it never meets a room.
 */
export const DIRECT_HOLD = '@direct';

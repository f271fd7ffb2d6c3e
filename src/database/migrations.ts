import { CreateMessages1763769600000 } from './migrations/1763769600000-create-messages';
import { RoomsAndDirectMessages1763780400000 } from './migrations/1763780400000-rooms-and-direct-messages';
import { UniqueClientMsgIds1763791200000 } from './migrations/1763791200000-unique-client-msg-ids';
import { StoreProbe1765065600000 } from './migrations/1765065600000-store-probe';
import { UsersAndPrivateRooms1766448000000 } from './migrations/1766448000000-users-and-private-rooms';
import { DirectMessagesInMessages1766451600000 } from './migrations/1766451600000-direct-messages-in-messages';
import { ClientMsgIdsPerSender1766455200000 } from './migrations/1766455200000-client-msg-ids-per-sender';
import { AuditLog1766520000000 } from './migrations/1766520000000-audit-log';
import { EditsDeletionsAndRoomSettings1766523600000 } from './migrations/1766523600000-edits-deletions-and-room-settings';
import { BansAndMutes1766527200000 } from './migrations/1766527200000-bans-and-mutes';
import { MessageChanges1766527300000 } from './migrations/1766527300000-message-changes';
import { RetentionMarks1766527400000 } from './migrations/1766527400000-retention-marks';
import { PostgresIdCeiling1766527500000 } from './migrations/1766527500000-postgres-id-ceiling';

/** Listed by class, not by glob, so the same list works under ts (tests) and in dist/. */
export const MIGRATIONS = [
  CreateMessages1763769600000,
  RoomsAndDirectMessages1763780400000,
  UniqueClientMsgIds1763791200000,
  StoreProbe1765065600000,
  UsersAndPrivateRooms1766448000000,
  DirectMessagesInMessages1766451600000,
  ClientMsgIdsPerSender1766455200000,
  AuditLog1766520000000,
  EditsDeletionsAndRoomSettings1766523600000,
  BansAndMutes1766527200000,
  MessageChanges1766527300000,
  RetentionMarks1766527400000,
  PostgresIdCeiling1766527500000,
];

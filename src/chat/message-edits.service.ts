import { Injectable } from '@nestjs/common';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { ChatException } from '../protocol/chat.exception';
import type { AuditAction } from '../protocol/audit';
import { ErrorCode } from '../protocol/error-code';
import type { MessageDeletedFrame, MessageEditedFrame } from '../protocol/frames';
import { isAdmin, type Identity } from '../protocol/identity';
import { AuditStore } from '../store/audit-store.service';
import { MessageChanges, type ChangeTarget } from '../store/message-changes.service';

/** Whoever edits or deletes: a connection, or a REST caller. */
export interface Editor {
  /** jwt mode (and ADMIN_TOKEN's `@admin`): who they are. */
  userId?: string;
  admin: boolean;
  /** Anonymous mode: the messages the connection's reconnect-token lineage sent (Authored). */
  authored?: { has(id: number): boolean };
  /** Who the audit log names. */
  actor: string;
  address?: string;
  /** A connection, which gets the resulting frame as its reply when the broadcast does not reach it. */
  session?: Session;
}

/** Why a deletion was allowed, as the audit row's reason. */
type Capacity = 'author' | 'admin' | 'room owner';

/**
 * Edits and deletions (the `edit` and `delete` events, PATCH and DELETE /api/messages/:id).
 *
 * - A message the caller cannot read (an unknown id, a private room they are not in, someone
 *   else's direct message, a deleted one) is NOT_FOUND: ids of private rooms and conversations do
 *   not leak, and a tombstone has nothing left to edit.
 * - Its author may edit and delete it: by user id in jwt mode; in anonymous mode only the
 *   connection that sent it and its reconnect-token lineage (Authored). Admins may delete any
 *   message, a room's owner any message of their room; nobody edits another's. Else FORBIDDEN.
 * - The room gets message_edited / message_deleted (a direct message's two users get it, jwt
 *   mode), encoded once; a sender the broadcast does not reach gets the same frame as its reply.
 *   Every change is an audit row.
 */
@Injectable()
export class MessageEditsService {
  constructor(
    private readonly hub: Hub,
    private readonly changes: MessageChanges,
    private readonly audit: AuditStore,
  ) {}

  async edit(editor: Editor, id: number, body: string): Promise<MessageEditedFrame> {
    const target = await this.readable(editor, id);
    if (!this.isAuthor(editor, target)) throw new ChatException(ErrorCode.FORBIDDEN, 'Only its author can edit a message');
    const editedAt = await this.changes.edit(id, body);
    if (editedAt === undefined) throw notFound(id); // deleted meanwhile
    const frame: MessageEditedFrame = { type: 'message_edited', id, ...inRoom(target), message: body, editedAt };
    this.publish(editor, target, frame, 'edit', 'author');
    return frame;
  }

  async delete(editor: Editor, id: number): Promise<MessageDeletedFrame> {
    const target = await this.readable(editor, id);
    const capacity = this.mayDelete(editor, target);
    if (!capacity) throw new ChatException(ErrorCode.FORBIDDEN, 'Only its author, the room owner or an admin can delete a message');
    const [deleted] = await this.changes.deleteMessages([id]);
    if (!deleted) throw notFound(id);
    const frame: MessageDeletedFrame = { type: 'message_deleted', id, ...inRoom(target) };
    this.publish(editor, target, frame, 'delete', capacity);
    return frame;
  }

  /** The connection's editor: its user (jwt), or its lineage (anonymous). */
  static ofSession(session: Session): Editor {
    const actor = session.userId ?? (session.adminToken ? 'admin' : session.nickname);
    return { userId: session.userId, admin: session.isAdmin(), authored: session.userId === undefined ? session.authored : undefined, actor, address: session.remoteAddress, session };
  }

  /** A REST caller: a signed-in user (or ADMIN_TOKEN's admin); anonymous callers have nothing that is theirs. */
  static ofRequest(identity: Identity | undefined, address: string | undefined): Editor {
    return { userId: identity?.userId, admin: isAdmin(identity), actor: identity?.userId ?? 'anonymous', address };
  }

  private async readable(editor: Editor, id: number): Promise<ChangeTarget> {
    const target = await this.changes.find(id);
    if (!target || target.deletedAt !== null || !this.mayRead(editor, target)) throw notFound(id);
    return target;
  }

  private mayRead(editor: Editor, target: ChangeTarget): boolean {
    if (editor.admin) return true;
    if (target.room !== null) return this.hub.mayRead(target.room, editor.userId);
    // A direct message: its two users (jwt mode). Anonymous DMs are nobody's to change but an admin's.
    return editor.userId !== undefined && (target.userId === editor.userId || target.recipientId === editor.userId);
  }

  private isAuthor(editor: Editor, target: ChangeTarget): boolean {
    if (editor.userId !== undefined) return target.userId === editor.userId;
    return target.room !== null && target.userId === null && (editor.authored?.has(target.id) ?? false);
  }

  private mayDelete(editor: Editor, target: ChangeTarget): Capacity | undefined {
    if (this.isAuthor(editor, target)) return 'author';
    if (editor.admin) return 'admin';
    if (target.room !== null && editor.userId !== undefined && target.roomOwnerId === editor.userId) return 'room owner';
    return undefined;
  }

  private publish(editor: Editor, target: ChangeTarget, frame: MessageEditedFrame | MessageDeletedFrame, action: AuditAction, capacity: Capacity): void {
    const session = editor.session;
    if (target.room !== null) {
      this.hub.toRoom(target.room, frame);
      if (session && !this.hub.receivesRoom(session, target.room)) session.send(frame);
    } else {
      const parties = [target.userId, target.recipientId].filter((userId): userId is string => userId !== null);
      if (parties.length > 0) this.hub.toUserIdsChange(parties, frame);
      if (session && (session.userId === undefined || !parties.includes(session.userId))) session.send(frame);
    }
    this.audit.note({ actor: editor.actor, action, target: String(target.id), room: target.room, reason: `as ${capacity}`, address: editor.address ?? null });
  }
}

/** `room` for a room message; a direct message's frames have none. */
function inRoom({ room }: ChangeTarget): { room?: string } {
  return room === null ? {} : { room };
}

function notFound(id: number): ChatException {
  return new ChatException(ErrorCode.NOT_FOUND, `No message ${id}`);
}

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/env.validation';
import { DIRECT_HOLD } from '../hub/direct-hold';
import { ErrorReporter } from '../hub/error-reporter';
import { Hub } from '../hub/hub';
import type { Session } from '../hub/session';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ChatException } from '../protocol/chat.exception';
import type { SignedInDirectMessageDto } from '../protocol/dto/signed-in-direct-message.dto';
import { ErrorCode } from '../protocol/error-code';
import { toErrorFrame } from '../protocol/error-frame';
import { directFrame, liveDirectFrame } from '../protocol/frames';
import { DirectMessageStore } from '../store/direct-message-store.service';
import { MessageStore, StoreUnavailableError } from '../store/message-store.service';
import { UserStore, type UserRecord } from '../store/user-store.service';

/**
 * Direct messages between signed-in users (AUTH_MODE=jwt), which wait for a recipient who is away.
 * A `dm` names any user who ever signed in, online or not; it is stored with both user ids and
 * delivered live to every connection of the sender and the recipient. The rest reach the recipient
 * at its next connect (sendUndelivered), or in a resume's replay (ResumeService).
 *
 * "Delivered" is per user: a DM is delivered once it has been written to one connection of its
 * recipient. The store keeps the highest such id per user (users.dm_delivered_id, the cursor): a
 * DM sent while a caught-up connection of the recipient is online moves it in the DM's own commit;
 * the DMs sent at connect move it after each page is written. Written is not read: a connection
 * that drops before the client read the frame loses it, which `?since=` (the client's own last id)
 * recovers. So delivery at connect is at least once, exactly once when nothing drops; clients
 * deduplicate by id.
 */
@Injectable()
export class DirectMessagesService {
  /** DMs read per page at connect: RESUME_MAX, the bound of every replay. */
  private readonly pageSize: number;

  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly dms: DirectMessageStore,
    private readonly users: UserStore,
    private readonly metrics: ChatMetrics,
    private readonly errors: ErrorReporter,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.pageSize = config.get('RESUME_MAX', { infer: true });
  }

  /**
   * `dm` on a signed-in connection: to the user `to` names (by id, else by nickname), online or
   * not. Stored, acknowledged (`toId` too), then sent to every connection of both users.
   */
  async post(session: Session, dto: SignedInDirectMessageDto): Promise<void> {
    const fromId = session.identity!.userId;
    const recipient = await this.findUser(dto.to);
    this.metrics.messagesReceived.inc();
    const { record, duplicate } = await this.store.appendDirect({
      from: session.nickname,
      to: recipient.nickname,
      body: dto.message,
      clientMsgId: dto.clientMsgId,
      fromId,
      toId: recipient.id,
      delivered: this.hub.receivesDirectLive(recipient.id),
    });
    if (record.clientMsgId !== null) {
      session.send({ type: 'ack', clientMsgId: record.clientMsgId, id: record.id, to: record.recipient, toId: record.recipientId ?? recipient.id });
    }
    if (duplicate) return; // a resend: acknowledged again, never delivered twice
    this.hub.toUserIds([fromId, recipient.id], liveDirectFrame(record));
    this.metrics.messagesBroadcast.inc();
  }

  /** The user `ref` names among all who ever signed in: the one with that id, else the one nickname. */
  async findUser(ref: string): Promise<UserRecord> {
    const found = await this.users.findUsers(ref);
    if (found.length === 0) throw new ChatException(ErrorCode.NO_SUCH_USER, `No user "${ref}" has ever signed in`);
    if (found.length > 1) throw new ChatException(ErrorCode.VALIDATION, `Several users are named "${ref}"; use the user id`);
    return found[0];
  }

  /**
   * Connect without `?since=`, after the history and before going live: the DMs to the user above
   * its delivery cursor, oldest first, a page at a time (paced by the client's reading), the cursor
   * moved past each page once it is written. Records in `lastIds` (under DIRECT_HOLD) the last id
   * sent, so that the live DMs held meanwhile are not sent twice. Never rejects: a store that cannot
   * be read is an UNAVAILABLE error frame (`"event":"dm"`) in their place.
   */
  async sendUndelivered(session: Session, lastIds: Map<string, number>): Promise<void> {
    const userId = session.identity!.userId;
    let lastId = 0;
    try {
      for (;;) {
        const { messages, hasMore } = await this.dms.undeliveredDms(userId, this.pageSize);
        if (messages.length === 0 || !session.isOpen) break;
        await session.sendPaced(messages.map(directFrame));
        if (!session.isOpen) break; // cut short: what was written may not be all of it
        lastId = messages[messages.length - 1].id;
        await this.dms.markDmsDelivered(userId, lastId);
        if (!hasMore) break;
      }
    } catch (error) {
      if (session.isClosed) return;
      // Live DMs must not move the cursor past the ones this connection was not sent.
      this.hub.markDirectBehind(session);
      this.errors.send(session, toErrorFrame(StoreUnavailableError.from(error), 'dm'), error);
    }
    lastIds.set(DIRECT_HOLD, lastId);
  }
}

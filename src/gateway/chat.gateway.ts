import { UseFilters, UsePipes } from '@nestjs/common';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ChatService } from '../chat/chat.service';
import { DirectMessagesService } from '../chat/direct-messages.service';
import { MessageEditsService } from '../chat/message-edits.service';
import { MembershipService } from '../chat/membership.service';
import { ModerationService, type ModerationResult } from '../chat/moderation.service';
import { ResumeService } from '../chat/resume.service';
import { RoomsService } from '../chat/rooms.service';
import { SessionLifetime } from '../chat/session-lifetime.service';
import type { Session } from '../hub/session';
import { AuthDto } from '../protocol/dto/auth.dto';
import { CreateRoomDto } from '../protocol/dto/create-room.dto';
import { DirectMessageDto } from '../protocol/dto/direct-message.dto';
import { DeleteMessageDto, EditMessageDto } from '../protocol/dto/edit-message.dto';
import { HistoryQueryDto } from '../protocol/dto/history-query.dto';
import { BanDto, KickDto, MuteDto, SlowModeDto, UnbanDto, UnmuteDto } from '../protocol/dto/moderation.dto';
import { ResumeDto } from '../protocol/dto/resume.dto';
import { RoomMemberDto } from '../protocol/dto/room-member.dto';
import { RoomDto } from '../protocol/dto/room.dto';
import { SendMessageDto } from '../protocol/dto/send-message.dto';
import { SetNicknameDto } from '../protocol/dto/set-nickname.dto';
import { SignedInDirectMessageDto } from '../protocol/dto/signed-in-direct-message.dto';
import { WhoDto } from '../protocol/dto/who.dto';
import type { AuthOkFrame, HistoryFrame, InboundEvent, MembershipFrame, ModerationFrame, PresenceFrame } from '../protocol/frames';
import { validatePayload } from '../protocol/validate-payload';
import { CurrentSession } from './current-session.decorator';
import { handshakeAddress, handshakeIdentity, handshakeIsAdmin } from './handshake';
import { WsProtocolExceptionFilter } from './ws-exception.filter';
import { bindSession, sessionOf, WsTransport } from './ws-transport';
import { WsValidationPipe } from './ws-validation.pipe';

const on = (event: InboundEvent) => SubscribeMessage(event);

/** WebSocket endpoint at `/` on the HTTP server's port. Handlers delegate to the chat services. */
@WebSocketGateway({ path: '/' })
@UsePipes(WsValidationPipe)
@UseFilters(WsProtocolExceptionFilter)
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly chat: ChatService,
    private readonly rooms: RoomsService,
    private readonly resumes: ResumeService,
    private readonly lifetime: SessionLifetime,
    private readonly directs: DirectMessagesService,
    private readonly membership: MembershipService,
    private readonly edits: MessageEditsService,
    private readonly moderation: ModerationService,
  ) {}

  /** `request` is the handshake's: in jwt mode the adapter verified its token (handshake.ts). */
  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const remoteAddress = handshakeAddress(request);
    const session = this.chat.connect(new WsTransport(socket), remoteAddress, request.url, handshakeIdentity(request), handshakeIsAdmin(request));
    if (session) bindSession(socket, session);
  }

  /** platform-ws passes the close code as the second argument. */
  handleDisconnect(socket: WebSocket, code?: unknown): void {
    const session = sessionOf(socket);
    if (session) this.chat.disconnect(session, typeof code === 'number' ? code : undefined);
  }

  @on('message')
  message(@MessageBody() dto: SendMessageDto, @CurrentSession() session: Session): Promise<void> {
    return this.chat.postMessage(session, dto);
  }

  @on('nick')
  nick(@MessageBody() dto: SetNicknameDto, @CurrentSession() session: Session): Promise<void> | undefined {
    return this.chat.rename(session, dto.nickname);
  }

  @on('history')
  history(@MessageBody() dto: HistoryQueryDto, @CurrentSession() session: Session): Promise<HistoryFrame> {
    return this.chat.history(session, dto);
  }

  /**
   * Validated here, not by the pipe, because the rule for `to` depends on the connection: a
   * nickname in anonymous mode, a user id or display name when signed in (still synchronously).
   */
  @on('dm')
  dm(@MessageBody() data: unknown, @CurrentSession() session: Session): Promise<void> {
    if (session.identity) return this.directs.post(session, validatePayload(SignedInDirectMessageDto, data));
    return this.chat.postDirect(session, validatePayload(DirectMessageDto, data));
  }

  @on('join')
  join(@MessageBody() dto: RoomDto, @CurrentSession() session: Session): Promise<void> {
    return this.rooms.join(session, dto);
  }

  @on('leave')
  leave(@MessageBody() dto: RoomDto, @CurrentSession() session: Session): void {
    this.rooms.leave(session, dto);
  }

  // Every handler takes the same parameters so each frame goes through the same pipeline steps.
  @on('who')
  who(@MessageBody() dto: WhoDto, @CurrentSession() session: Session): PresenceFrame {
    return this.rooms.who(dto, session);
  }

  @on('resume')
  resume(@MessageBody() dto: ResumeDto, @CurrentSession() session: Session): Promise<void> {
    return this.resumes.resume(session, dto);
  }

  @on('typing')
  typing(@MessageBody() dto: RoomDto, @CurrentSession() session: Session): void {
    this.rooms.typing(session, dto);
  }

  @on('auth')
  auth(@MessageBody() dto: AuthDto, @CurrentSession() session: Session): Promise<AuthOkFrame> {
    return this.lifetime.renew(session, dto.token);
  }

  @on('create_room')
  createRoom(@MessageBody() dto: CreateRoomDto, @CurrentSession() session: Session): Promise<void> {
    return this.rooms.create(session, dto);
  }

  @on('invite')
  invite(@MessageBody() dto: RoomMemberDto, @CurrentSession() session: Session): Promise<MembershipFrame> {
    return this.membership.invite(session, dto);
  }

  @on('remove')
  remove(@MessageBody() dto: RoomMemberDto, @CurrentSession() session: Session): Promise<MembershipFrame> {
    return this.membership.remove(session, dto);
  }

  // Edits and deletions: the reply is the message_edited / message_deleted broadcast itself (or
  // the same frame to a sender outside the room), so nothing is returned here.
  @on('edit')
  async edit(@MessageBody() dto: EditMessageDto, @CurrentSession() session: Session): Promise<void> {
    await this.edits.edit(MessageEditsService.ofSession(session), dto.id, dto.message);
  }

  @on('delete')
  async delete(@MessageBody() dto: DeleteMessageDto, @CurrentSession() session: Session): Promise<void> {
    await this.edits.delete(MessageEditsService.ofSession(session), dto.id);
  }
  // ---- moderation (issue 13): admins only (FORBIDDEN otherwise); slow_mode for a room's owner too

  @on('kick')
  async kick(@MessageBody() dto: KickDto, @CurrentSession() session: Session): Promise<ModerationFrame> {
    return moderation(await this.moderation.kick(this.moderation.asAdmin(session, 'kick'), dto));
  }

  @on('ban')
  async ban(@MessageBody() dto: BanDto, @CurrentSession() session: Session): Promise<ModerationFrame> {
    return moderation(await this.moderation.ban(this.moderation.asAdmin(session, 'ban'), dto));
  }

  @on('unban')
  async unban(@MessageBody() dto: UnbanDto, @CurrentSession() session: Session): Promise<ModerationFrame> {
    return moderation(await this.moderation.unban(this.moderation.asAdmin(session, 'unban'), dto));
  }

  @on('mute')
  async mute(@MessageBody() dto: MuteDto, @CurrentSession() session: Session): Promise<ModerationFrame> {
    return moderation(await this.moderation.mute(this.moderation.asAdmin(session, 'mute'), dto));
  }

  @on('unmute')
  async unmute(@MessageBody() dto: UnmuteDto, @CurrentSession() session: Session): Promise<ModerationFrame> {
    return moderation(await this.moderation.unmute(this.moderation.asAdmin(session, 'unmute'), dto));
  }

  @on('slow_mode')
  slowMode(@MessageBody() dto: SlowModeDto, @CurrentSession() session: Session): Promise<void> {
    return this.moderation.setSlowMode(session, dto);
  }
}

function moderation(result: ModerationResult): ModerationFrame {
  return { type: 'moderation', ...result };
}

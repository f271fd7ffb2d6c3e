import { UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ChatService } from './chat.service';
import { DirectMessageDto } from './dto/direct-message.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { ResumeDto } from './dto/resume.dto';
import { RoomDto } from './dto/room.dto';
import { SetNicknameDto } from './dto/set-nickname.dto';
import { ResumeService } from './resume.service';
import { RoomsService } from './rooms.service';
import type { HistoryFrame, InboundEvent, PresenceFrame } from './protocol';
import { WsProtocolExceptionFilter } from './ws-exception.filter';
import { WsValidationPipe } from './ws-validation.pipe';

const on = (event: InboundEvent) => SubscribeMessage(event);

/** WebSocket endpoint at `/` on the HTTP server's port. Handlers delegate to ChatService. */
@WebSocketGateway({ path: '/' })
@UsePipes(WsValidationPipe)
@UseFilters(WsProtocolExceptionFilter)
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly chat: ChatService,
    private readonly rooms: RoomsService,
    private readonly resumes: ResumeService,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    void this.chat.connect(socket, request.socket.remoteAddress ?? 'unknown', request.url);
  }

  /** platform-ws passes the close code as the second argument. */
  handleDisconnect(socket: WebSocket, code?: unknown): void {
    this.chat.disconnect(socket, typeof code === 'number' ? code : undefined);
  }

  @on('message')
  message(@MessageBody() dto: SendMessageDto, @ConnectedSocket() socket: WebSocket): Promise<void> {
    return this.chat.postMessage(socket, dto);
  }

  @on('nick')
  nick(@MessageBody() dto: SetNicknameDto, @ConnectedSocket() socket: WebSocket): void {
    this.chat.rename(socket, dto);
  }

  @on('history')
  history(@MessageBody() dto: HistoryQueryDto, @ConnectedSocket() socket: WebSocket): Promise<HistoryFrame> {
    return this.chat.history(socket, dto);
  }

  @on('dm')
  dm(@MessageBody() dto: DirectMessageDto, @ConnectedSocket() socket: WebSocket): Promise<void> {
    return this.chat.postDirect(socket, dto);
  }

  @on('join')
  join(@MessageBody() dto: RoomDto, @ConnectedSocket() socket: WebSocket): Promise<void> {
    return this.rooms.join(socket, dto);
  }

  @on('leave')
  leave(@MessageBody() dto: RoomDto, @ConnectedSocket() socket: WebSocket): void {
    this.rooms.leave(socket, dto);
  }

  // Every handler takes the same parameters so each frame goes through the same pipeline steps.
  @on('who')
  who(@MessageBody() dto: RoomDto, @ConnectedSocket() socket: WebSocket): PresenceFrame {
    return this.rooms.who(socket, dto);
  }

  @on('resume')
  resume(@MessageBody() dto: ResumeDto, @ConnectedSocket() socket: WebSocket): Promise<void> {
    return this.resumes.resume(socket, dto);
  }

  @on('typing')
  typing(@MessageBody() dto: RoomDto, @ConnectedSocket() socket: WebSocket): void {
    this.rooms.typing(socket, dto);
  }
}

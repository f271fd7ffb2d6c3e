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
import { HistoryQueryDto } from './dto/history-query.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { SetNicknameDto } from './dto/set-nickname.dto';
import type { HistoryFrame, InboundEvent } from './protocol';
import { WsProtocolExceptionFilter } from './ws-exception.filter';
import { WsValidationPipe } from './ws-validation.pipe';

const on = (event: InboundEvent) => SubscribeMessage(event);

/** WebSocket endpoint at `/` on the HTTP server's port. Handlers delegate to ChatService. */
@WebSocketGateway({ path: '/' })
@UsePipes(WsValidationPipe)
@UseFilters(WsProtocolExceptionFilter)
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly chat: ChatService) {}

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    void this.chat.connect(socket, request.socket.remoteAddress ?? 'unknown');
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

  // Every handler takes the same parameters so each frame goes through the same pipeline steps.
  @on('history')
  history(@MessageBody() dto: HistoryQueryDto, @ConnectedSocket() _socket: WebSocket): Promise<HistoryFrame> {
    return this.chat.history(dto);
  }
}

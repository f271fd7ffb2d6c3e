import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HubModule } from '../hub/hub.module';
import { ChatGateway } from './chat.gateway';
import { WsProtocolExceptionFilter } from './ws-exception.filter';

@Module({
  imports: [ChatModule, HubModule],
  providers: [ChatGateway, WsProtocolExceptionFilter],
})
export class GatewayModule {}

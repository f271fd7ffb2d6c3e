import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HubModule } from '../hub/hub.module';
import { ClusterPresence } from './cluster-presence.service';
import { ClusterRecovery } from './cluster-recovery.service';

/**
 * This node's part in the cluster that needs the hub (ClusterModule, global, sits below it and
 * provides what the hub needs): shared presence and heartbeats, recovery after a Redis outage.
 */
@Module({
  imports: [HubModule, ChatModule],
  providers: [ClusterRecovery, ClusterPresence],
})
export class ClusterNodeModule {}

import { Global, Module } from '@nestjs/common';
import { ChatMetrics } from './chat-metrics.service';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [ChatMetrics],
  exports: [ChatMetrics],
})
export class MetricsModule {}

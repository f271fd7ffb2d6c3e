import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StoreModule } from '../store/store.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty', logger: false }), StoreModule],
  controllers: [HealthController],
})
export class HealthModule {}

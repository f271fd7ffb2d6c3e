import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { FanoutService } from './fanout.service';

@Module({
  imports: [UsersModule],
  providers: [FanoutService],
  exports: [FanoutService],
})
export class FanoutModule {}

import { Module } from '@nestjs/common';
import { MessageStore } from './message-store.service';

@Module({
  providers: [MessageStore],
  exports: [MessageStore],
})
export class StoreModule {}

import { Module } from '@nestjs/common';
import { AsyncApiController } from './asyncapi.controller';

/** Machine-readable protocol documents served over HTTP. */
@Module({
  controllers: [AsyncApiController],
})
export class DocsModule {}

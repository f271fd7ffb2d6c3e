import { Module } from '@nestjs/common';
import { ClientConfigController } from './client-config.controller';

/** The browser client's one server-side piece: its configuration. The files themselves are static (app.setup.ts). */
@Module({
  controllers: [ClientConfigController],
})
export class WebModule {}

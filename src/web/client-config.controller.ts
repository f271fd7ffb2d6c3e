import { Controller, Get, Header } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import type { EnvironmentVariables } from '../config/env.validation';
import { clientConfig, type ClientConfig } from './client-config';

/**
 * GET /client-config.json: the sign-in mode and URLs the web client reads before it connects.
 * Open in every mode (not under /api, which needs a token in jwt mode): a page without a token
 * must learn where to get one. It holds nothing secret: the URLs are the ones the browser visits.
 */
@ApiExcludeController()
@Controller()
export class ClientConfigController {
  private readonly config: ClientConfig;

  constructor(config: ConfigService<EnvironmentVariables, true>) {
    this.config = clientConfig({
      AUTH_MODE: config.get('AUTH_MODE', { infer: true }),
      AUTH_LOGIN_URL: config.get('AUTH_LOGIN_URL', { infer: true }),
      AUTH_REFRESH_URL: config.get('AUTH_REFRESH_URL', { infer: true }),
    });
  }

  @Get('client-config.json')
  @Header('Cache-Control', 'no-store')
  get(): ClientConfig {
    return this.config;
  }
}

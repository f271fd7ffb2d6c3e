import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { MessageStore } from '../store/message-store.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: MessageStore,
  ) {}

  /** Alias of /health/ready. */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.ready();
  }

  /** The process is up and serving HTTP. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * 200 while the store takes writes: its last write (or probe write) succeeded and its database
   * files are the ones it opened; 503 otherwise. Touches no database, so it answers at once even
   * while another process holds a lock.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database()]);
  }

  private database(): HealthIndicatorResult<'database'> {
    const indicator = this.indicators.check('database');
    const { writable, reason } = this.store.status();
    return writable ? indicator.up() : indicator.down({ reason });
  }
}

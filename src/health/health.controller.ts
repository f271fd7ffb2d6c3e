import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { REDIS_CONNECTION, type RedisConnection } from '../cluster/redis-connection';
import { MessageStore } from '../store/message-store.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: MessageStore,
    @Optional() @Inject(REDIS_CONNECTION) private readonly redis: RedisConnection | null = null,
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
   * while another process holds a lock. In cluster mode a `redis` entry says whether this node
   * reaches the others: `degraded` during an outage, still 200, since the node serves its own
   * clients meanwhile (docs/operations.md#redis-outage).
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const redis = this.redis;
    return this.health.check(redis ? [() => this.database(), () => this.cluster(redis)] : [() => this.database()]);
  }

  private cluster(redis: RedisConnection): HealthIndicatorResult<'redis'> {
    const indicator = this.indicators.check('redis');
    const since = redis.outageSince;
    if (redis.isUp || since === null) return indicator.up({ state: 'connected' });
    return indicator.up({ state: 'degraded', outageSince: new Date(since).toISOString() });
  }

  private database(): HealthIndicatorResult<'database'> {
    const indicator = this.indicators.check('database');
    const { writable, reason } = this.store.status();
    return writable ? indicator.up() : indicator.down({ reason });
  }
}

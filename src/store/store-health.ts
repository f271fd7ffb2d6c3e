import type { Logger } from '@nestjs/common';
import type { Gauge } from 'prom-client';

/** What /health/ready reports for the store. */
export interface StoreStatus {
  /** The last write or probe succeeded, and the database files are the ones the server opened. */
  writable: boolean;
  /** Why not, when not. */
  reason?: string;
}

interface Failure {
  reason: string;
  /** The files were lost: nothing recovers without a restart. */
  permanent: boolean;
}

/**
 * The store's write health, with one log line when it goes unhealthy and one when it recovers
 * (repeated failures in between are logged at debug), and the chat_store_writable gauge.
 */
export class StoreHealth {
  private failure: Failure | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly gauge: Gauge,
  ) {
    gauge.set(1);
  }

  get status(): StoreStatus {
    return this.failure ? { writable: false, reason: this.failure.reason } : { writable: true };
  }

  /** Set once the files are lost; every store call is then refused. */
  get lostFiles(): string | null {
    return this.failure?.permanent ? this.failure.reason : null;
  }

  /** True while a probe could bring the store back (a failure that is not permanent). */
  get failing(): boolean {
    return this.failure !== null && !this.failure.permanent;
  }

  writeFailed(reason: string, diagnosis?: string): void {
    if (this.failure?.permanent) return;
    if (this.failure) {
      this.logger.debug({ msg: 'message store write failed again', reason });
    } else {
      this.logger.error({ msg: 'message store unhealthy: writes fail', reason, diagnosis });
      this.gauge.set(0);
    }
    this.failure = { reason, permanent: false };
  }

  filesLost(reason: string): void {
    if (this.failure?.permanent) return;
    this.logger.error({ msg: 'message store unhealthy: database files lost, restart the server', reason });
    this.failure = { reason, permanent: true };
    this.gauge.set(0);
  }

  writeSucceeded(): void {
    if (!this.failure || this.failure.permanent) return;
    this.logger.log({ msg: 'message store recovered: writes succeed again', after: this.failure.reason });
    this.failure = null;
    this.gauge.set(1);
  }
}

import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { StoreUnavailableError } from '../store/message-store.service';

/** REST face of a store outage: 503, so clients and load balancers retry elsewhere. */
@Catch(StoreUnavailableError)
export class StoreUnavailableFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(_error: StoreUnavailableError, host: ArgumentsHost): void {
    const body = { statusCode: 503, error: 'Service Unavailable', message: 'The message store is unavailable' };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

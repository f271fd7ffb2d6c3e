import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { StoreUnavailableError } from '../store/message-store.service';

/** REST face of a store outage: 503, so clients and load balancers retry elsewhere. */
@Catch(StoreUnavailableError)
export class StoreUnavailableFilter implements ExceptionFilter {
  catch(_error: StoreUnavailableError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .json({ statusCode: 503, error: 'Service Unavailable', message: 'The message store is unavailable' });
  }
}

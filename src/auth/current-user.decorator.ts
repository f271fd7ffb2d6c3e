import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../protocol/identity';
import { identityOfRequest } from './http-auth';

/** The signed-in user of the request being handled (jwt mode); undefined in anonymous mode. */
export function currentUser(context: ExecutionContext): Identity | undefined {
  return identityOfRequest(context.switchToHttp().getRequest<FastifyRequest>().raw);
}

/** `@CurrentUser() user: Identity | undefined` in a controller handler under /api. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => currentUser(context));

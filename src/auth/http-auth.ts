import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Identity } from '../protocol/identity';
import { AuthFailure } from './auth-failure';
import { adminTokenIdentity, type AuthService } from './auth.service';
import { bearerFromAuthorization, optionalBearer } from './bearer';

/** The identity of each authenticated request, by its Node request (what every layer of Fastify and Nest shares). */
const identities = new WeakMap<IncomingMessage, Identity>();

/**
 * The identity the request was authenticated as: a verified token's (jwt mode) or ADMIN_TOKEN's
 * (either mode); undefined for an anonymous request and on open routes.
 */
export function identityOfRequest(request: IncomingMessage): Identity | undefined {
  return identities.get(request);
}

/** What a route asks of a request, by the route it matched (its pattern, not the path a client wrote). */
export type RoutePolicy = 'user' | 'admin' | 'metrics' | 'open';

/**
 * `/api/admin/*` needs an admin (ADMIN_TOKEN or the role `admin`), `/api/*` a user, `/metrics` METRICS_TOKEN or an admin, the rest (health, the web client,
 * /asyncapi.yaml, Swagger UI at /api/docs) nothing. Unmatched requests (404s) are open: they reach
 * no handler.
 */
export function routePolicy(route: string | undefined): RoutePolicy {
  if (route === undefined) return 'open';
  if (route === '/metrics') return 'metrics';
  if (route === '/api/docs' || route.startsWith('/api/docs/') || route.startsWith('/api/docs-')) return 'open';
  if (route === '/api/admin' || route.startsWith('/api/admin/')) return 'admin';
  return route === '/api' || route.startsWith('/api/') ? 'user' : 'open';
}

/** Told of every request refused for its credentials (the audit log's `auth_failed`; auth itself writes nothing). */
export type HttpAuthFailureListener = (request: FastifyRequest, failure: AuthFailure) => void;

/**
 * Authenticates HTTP requests by the route they matched, for every controller present and future:
 * a Fastify hook on the root instance, so no controller can forget a guard. It runs after the
 * request logger (so a refusal is logged, with the token redacted) and before the body is parsed.
 * In anonymous mode a user route takes requests without a token, and ADMIN_TOKEN makes one an admin's.
 */
export function installHttpAuth(fastify: FastifyInstance, auth: AuthService, onFailure?: HttpAuthFailureListener): void {
  fastify.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const policy = routePolicy(request.routeOptions.url);
    if (policy === 'open') return payload;
    if (policy === 'user' && !auth.required) {
      // Anonymous mode: the request needs no token; ADMIN_TOKEN makes it an admin's, any other is not ours to judge.
      if (auth.isAdminToken(optionalBearer(request.headers.authorization))) identities.set(request.raw, adminTokenIdentity());
      return payload;
    }
    try {
      const token = bearerFromAuthorization(request.headers.authorization);
      if (policy === 'metrics') {
        await auth.authorizeMetrics(token);
      } else if (policy === 'admin') {
        identities.set(request.raw, await auth.authorizeAdmin(token));
      } else {
        identities.set(request.raw, await auth.authenticate(token));
      }
      return payload;
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      onFailure?.(request, error);
      void reply.code(error.status).headers(error.headers).send(error.body);
      return undefined;
    }
  });
}

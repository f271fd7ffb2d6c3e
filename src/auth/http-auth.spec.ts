import type { ExecutionContext } from '@nestjs/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuthService } from './auth.service';
import { currentUser } from './current-user.decorator';
import { identityOfRequest, installHttpAuth, type HttpAuthFailureListener } from './http-auth';
import { claims, mintHs256, TEST_SECRET } from './token-fixture';
import { TokenVerifier } from './token-verifier';

const jwt = () => new AuthService({ mode: 'jwt', verifier: new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' }) });

/** A Fastify app with the hook and routes that report the identity they see, as a controller's @CurrentUser() would. */
async function app(auth: AuthService, more: (fastify: FastifyInstance) => void = () => undefined, onFailure?: HttpAuthFailureListener): Promise<FastifyInstance> {
  const fastify = Fastify();
  installHttpAuth(fastify, auth, onFailure);
  more(fastify);
  const whoAmI = (request: { raw: Parameters<typeof identityOfRequest>[0] }) => ({ user: identityOfRequest(request.raw) ?? null });
  fastify.get('/api/me', whoAmI);
  fastify.post('/api/echo', (request) => ({ body: request.body }));
  fastify.get('/health/live', whoAmI);
  fastify.get('/metrics', () => 'metrics');
  fastify.get('/api/admin/audit', whoAmI);
  await fastify.ready();
  return fastify;
}

describe(installHttpAuth.name, () => {
  it('hands a verified request its identity, as @CurrentUser() reads it', async () => {
    const sut = await app(jwt());
    const res = await sut.inject({ url: '/api/me', headers: { authorization: `Bearer ${await mintHs256(claims({ sub: 'u-1', name: 'Una', roles: ['admin'] }))}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: { userId: 'u-1', nickname: 'Una', roles: ['admin'], expiresAt: expect.any(Number) as unknown } });
    await sut.close();
  });

  it('answers 401 before the body is parsed or the handler runs', async () => {
    const sut = await app(jwt());
    const res = await sut.inject({ method: 'POST', url: '/api/echo', payload: '{not json', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="nest-chat"');
    expect(res.json()).toEqual({ statusCode: 401, error: 'Unauthorized', reason: 'missing', message: 'A bearer token is required' });
    await sut.close();
  });

  it('tells the failure listener of every 401 and 403 (the audit log), and of nothing else', async () => {
    const failures: Array<[string | undefined, string]> = [];
    const sut = await app(jwt(), undefined, (request, failure) => failures.push([request.routeOptions.url, failure.reason]));
    const user = await mintHs256(claims({ sub: 'u-3' }));
    await sut.inject({ url: '/api/me' });
    await sut.inject({ url: '/api/me', headers: { authorization: 'Bearer nonsense' } });
    await sut.inject({ url: '/api/admin/audit', headers: { authorization: `Bearer ${user}` } });
    await sut.inject({ url: '/api/me', headers: { authorization: `Bearer ${user}` } });
    await sut.inject({ url: '/health/live' });
    expect(failures).toEqual([
      ['/api/me', 'missing'],
      ['/api/me', 'malformed'],
      ['/api/admin/audit', 'insufficient_role'],
    ]);
    await sut.close();
  });

  it('leaves open routes alone: no identity there, even with a token', async () => {
    const sut = await app(jwt());
    const res = await sut.inject({ url: '/health/live', headers: { authorization: `Bearer ${await mintHs256()}` } });
    expect([res.statusCode, res.json()]).toEqual([200, { user: null }]);
    await sut.close();
  });

  it('asks nothing of user routes in anonymous mode without METRICS_TOKEN, and closes the admin routes', async () => {
    const sut = await app(new AuthService({ mode: 'anonymous' }));
    expect((await sut.inject({ url: '/api/me' })).json()).toEqual({ user: null });
    expect((await sut.inject({ url: '/metrics' })).statusCode).toBe(200);
    expect((await sut.inject({ url: '/api/admin/audit' })).json()).toMatchObject({ statusCode: 401, reason: 'missing' });
    await sut.close();
  });

  it('guards only /metrics in anonymous mode with METRICS_TOKEN', async () => {
    const sut = await app(new AuthService({ mode: 'anonymous', metricsToken: 'metrics-token-0123456789' }));
    expect((await sut.inject({ url: '/api/me' })).statusCode).toBe(200);
    expect((await sut.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await sut.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } })).statusCode).toBe(200);
    await sut.close();
  });
});

describe(currentUser.name, () => {
  it('reads the identity of the request being handled, undefined without one', async () => {
    const seen: unknown[] = [];
    const probe = (request: unknown) => {
      seen.push(currentUser({ switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext));
      return {};
    };
    const sut = await app(jwt(), (fastify) => {
      fastify.get('/api/probe', probe);
      fastify.get('/open/probe', probe);
    });
    await sut.inject({ url: '/api/probe', headers: { authorization: `Bearer ${await mintHs256(claims({ sub: 'u-2' }))}` } });
    await sut.inject({ url: '/open/probe' });
    expect(seen).toEqual([expect.objectContaining({ userId: 'u-2' }), undefined]);
    await sut.close();
  });
});

describe('ADMIN_TOKEN on REST', () => {
  const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
  const admin = { userId: '@admin', nickname: 'admin', roles: ['admin'], expiresAt: expect.any(Number) as unknown };

  it('anonymous mode: makes a user route request an admin\'s, leaves other tokens (even broken ones) anonymous, and opens the admin routes to it alone', async () => {
    const sut = await app(new AuthService({ mode: 'anonymous', adminToken: ADMIN_TOKEN }));
    expect((await sut.inject({ url: '/api/me', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()).toEqual({ user: admin });
    expect((await sut.inject({ url: '/api/me', headers: { authorization: 'Bearer something-else' } })).json()).toEqual({ user: null });
    expect((await sut.inject({ url: '/api/me', headers: { authorization: 'Basic xyz' } })).json()).toEqual({ user: null });
    expect((await sut.inject({ url: '/api/admin/audit', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()).toEqual({ user: admin });
    const wrong = await sut.inject({ url: '/api/admin/audit', headers: { authorization: 'Bearer something-else' } });
    expect([wrong.statusCode, wrong.json()]).toEqual([401, { statusCode: 401, error: 'Unauthorized', reason: 'unknown_token', message: 'The bearer token is not ADMIN_TOKEN' }]);
    await sut.close();
  });

  it('jwt mode: the admin routes take ADMIN_TOKEN or a token with the role admin, and answer 403 insufficient_role to another user', async () => {
    const auth = new AuthService({ mode: 'jwt', adminToken: ADMIN_TOKEN, verifier: new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' }) });
    const sut = await app(auth);
    expect((await sut.inject({ url: '/api/admin/audit', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()).toEqual({ user: admin });
    expect((await sut.inject({ url: '/api/me', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()).toEqual({ user: admin });
    const root = await sut.inject({ url: '/api/admin/audit', headers: { authorization: `Bearer ${await mintHs256(claims({ sub: 'root', roles: ['admin'] }))}` } });
    expect(root.json()).toMatchObject({ user: { userId: 'root', roles: ['admin'] } });
    const user = await sut.inject({ url: '/api/admin/audit', headers: { authorization: `Bearer ${await mintHs256(claims({ sub: 'u-2' }))}` } });
    expect([user.statusCode, user.headers['www-authenticate'], user.json()]).toEqual([
      403,
      'Bearer error="insufficient_scope"',
      { statusCode: 403, error: 'Forbidden', reason: 'insufficient_role', message: 'This route needs the role "admin" or ADMIN_TOKEN' },
    ]);
    await sut.close();
  });
});

import type { ExecutionContext } from '@nestjs/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuthService } from './auth.service';
import { currentUser } from './current-user.decorator';
import { identityOfRequest, installHttpAuth } from './http-auth';
import { claims, mintHs256, TEST_SECRET } from './token-fixture';
import { TokenVerifier } from './token-verifier';

const jwt = () => new AuthService({ mode: 'jwt', verifier: new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' }) });

/** A Fastify app with the hook and routes that report the identity they see, as a controller's @CurrentUser() would. */
async function app(auth: AuthService, more: (fastify: FastifyInstance) => void = () => undefined): Promise<FastifyInstance> {
  const fastify = Fastify();
  installHttpAuth(fastify, auth);
  more(fastify);
  const whoAmI = (request: { raw: Parameters<typeof identityOfRequest>[0] }) => ({ user: identityOfRequest(request.raw) ?? null });
  fastify.get('/api/me', whoAmI);
  fastify.post('/api/echo', (request) => ({ body: request.body }));
  fastify.get('/health/live', whoAmI);
  fastify.get('/metrics', () => 'metrics');
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

  it('leaves open routes alone: no identity there, even with a token', async () => {
    const sut = await app(jwt());
    const res = await sut.inject({ url: '/health/live', headers: { authorization: `Bearer ${await mintHs256()}` } });
    expect([res.statusCode, res.json()]).toEqual([200, { user: null }]);
    await sut.close();
  });

  it('is not installed at all in anonymous mode without METRICS_TOKEN', async () => {
    const sut = await app(new AuthService({ mode: 'anonymous' }));
    expect((await sut.inject({ url: '/api/me' })).json()).toEqual({ user: null });
    expect((await sut.inject({ url: '/metrics' })).statusCode).toBe(200);
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

import { AuthFailure, type AuthFailureReason } from './auth-failure';
import { AuthService, METRICS_ROLE } from './auth.service';
import { bearerFromAuthorization, sameSecret } from './bearer';
import { routePolicy } from './http-auth';
import { claims, mintHs256, TEST_SECRET } from './token-fixture';
import { TokenVerifier } from './token-verifier';

const METRICS_TOKEN = 'scraper-token-0123456789';
const verifier = () => new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' });

async function failureOf(promise: Promise<unknown>): Promise<AuthFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AuthFailure)) throw new Error(`expected an AuthFailure, got ${String(error)}`);
  return error;
}

describe(AuthFailure.name, () => {
  it.each<[AuthFailureReason, number, Record<string, string>, string]>([
    ['missing', 401, { 'WWW-Authenticate': 'Bearer realm="nest-chat"' }, 'Unauthorized'],
    ['expired', 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' }, 'Unauthorized'],
    ['bad_signature', 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' }, 'Unauthorized'],
    ['insufficient_role', 403, { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' }, 'Forbidden'],
    ['keys_unavailable', 503, { 'Retry-After': '5' }, 'Service Unavailable'],
  ])('answers %s with %d, its headers and body', (reason, status, headers, error) => {
    const sut = new AuthFailure(reason, 'why');
    expect(sut.status).toBe(status);
    expect(sut.headers).toEqual(headers);
    expect(sut.body).toEqual({ statusCode: status, error, reason, message: 'why' });
  });
});

describe(bearerFromAuthorization.name, () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
  ])('takes the token of %j', (header, token) => {
    expect(bearerFromAuthorization(header)).toBe(token);
  });

  it('is undefined without the header', () => {
    expect(bearerFromAuthorization(undefined)).toBeUndefined();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'abc.def.ghi', ''])('refuses %j as malformed', (header) => {
    expect(() => bearerFromAuthorization(header)).toThrow(new AuthFailure('malformed', 'The Authorization header must be "Bearer <token>"'));
  });
});

describe(sameSecret.name, () => {
  it('compares whole secrets of any length', () => {
    expect(sameSecret(METRICS_TOKEN, METRICS_TOKEN)).toBe(true);
    expect(sameSecret(`${METRICS_TOKEN}x`, METRICS_TOKEN)).toBe(false);
    expect(sameSecret(METRICS_TOKEN.slice(0, -1), METRICS_TOKEN)).toBe(false);
    expect(sameSecret('', METRICS_TOKEN)).toBe(false);
  });
});

describe(routePolicy.name, () => {
  it.each([
    ['/api/messages', 'user'],
    ['/api/rooms/:room/users', 'user'],
    ['/api/me', 'user'],
    ['/metrics', 'metrics'],
    ['/api/admin/audit', 'admin'],
    ['/api/admin', 'admin'],
    ['/api/administrators', 'user'],
    ['/api/docs', 'open'],
    ['/api/docs/*', 'open'],
    ['/api/docs-json', 'open'],
    ['/health/ready', 'open'],
    ['/asyncapi.yaml', 'open'],
    ['/', 'open'],
    ['/apiary', 'open'],
    [undefined, 'open'],
  ])('route %s is %s', (route, policy) => {
    expect(routePolicy(route)).toBe(policy);
  });
});

describe(AuthService.name, () => {
  describe('anonymous', () => {
    it('asks nothing, /metrics included, without METRICS_TOKEN', async () => {
      const sut = new AuthService({ mode: 'anonymous' });
      expect(sut.required).toBe(false);
      expect(sut.guardsMetrics).toBe(false);
      await expect(sut.authorizeMetrics(undefined)).resolves.toBeUndefined();
    });

    it('asks /metrics for METRICS_TOKEN when it is set, and takes nothing else', async () => {
      const sut = new AuthService({ mode: 'anonymous', metricsToken: METRICS_TOKEN });
      expect(sut.guardsMetrics).toBe(true);
      await expect(sut.authorizeMetrics(METRICS_TOKEN)).resolves.toBeUndefined();
      expect((await failureOf(sut.authorizeMetrics(undefined))).reason).toBe('missing');
      expect((await failureOf(sut.authorizeMetrics('wrong'))).reason).toBe('unknown_token');
      expect((await failureOf(sut.authorizeMetrics(await mintHs256(claims({ roles: ['admin'] }))))).reason).toBe('unknown_token');
    });
  });

  describe('jwt', () => {
    it('needs a verifier', () => {
      expect(() => new AuthService({ mode: 'jwt' })).toThrow('jwt mode needs a token verifier');
    });

    it('authenticates a token, and calls no token or an empty one missing', async () => {
      const sut = new AuthService({ mode: 'jwt', verifier: verifier() });
      await expect(sut.authenticate(await mintHs256(claims({ sub: 'u-1' })))).resolves.toMatchObject({ userId: 'u-1' });
      expect((await failureOf(sut.authenticate(undefined))).reason).toBe('missing');
      expect((await failureOf(sut.authenticate(''))).reason).toBe('missing');
    });

    it(`opens /metrics to the role "${METRICS_ROLE}" or METRICS_TOKEN only`, async () => {
      const sut = new AuthService({ mode: 'jwt', verifier: verifier(), metricsToken: METRICS_TOKEN });
      await expect(sut.authorizeMetrics(METRICS_TOKEN)).resolves.toBeUndefined();
      await expect(sut.authorizeMetrics(await mintHs256(claims({ roles: ['user', 'admin'] })))).resolves.toBeUndefined();
      const user = await failureOf(sut.authorizeMetrics(await mintHs256(claims({ roles: ['user'] }))));
      expect([user.reason, user.status]).toEqual(['insufficient_role', 403]);
      expect((await failureOf(sut.authorizeMetrics(undefined))).reason).toBe('missing');
      expect((await failureOf(sut.authorizeMetrics('wrong'))).reason).toBe('malformed');
    });

    it('takes no METRICS_TOKEN when none is configured', async () => {
      const sut = new AuthService({ mode: 'jwt', verifier: verifier() });
      expect((await failureOf(sut.authorizeMetrics(METRICS_TOKEN))).reason).toBe('malformed');
    });
  });
});

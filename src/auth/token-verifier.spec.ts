import { createHmac } from 'node:crypto';
import { AuthFailure, type AuthFailureReason } from './auth-failure';
import { claims, inSeconds, JwksServer, mintHs256, TEST_SECRET, TestKeyPair } from './token-fixture';
import { JWKS_COOLDOWN_MS, TokenVerifier, verifierSettings, type VerifierSettings } from './token-verifier';

const secretVerifier = (extra: Partial<VerifierSettings> = {}) => new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles', ...extra });

/** The reason `verify` rejects with; fails the test when it resolves or throws something else. */
async function reasonOf(sut: TokenVerifier, token: string): Promise<AuthFailureReason> {
  const error = await sut.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AuthFailure)) throw new Error(`expected an AuthFailure, got ${String(error)}`);
  return error.reason;
}

describe(TokenVerifier.name, () => {
  describe('with an HS256 secret', () => {
    it('verifies a token and returns its identity', async () => {
      const exp = inSeconds(300);
      const sut = secretVerifier();
      await expect(sut.verify(await mintHs256(claims({ sub: 'u-7', exp, name: 'Bob B', roles: ['admin'] })))).resolves.toEqual({
        userId: 'u-7',
        nickname: 'Bob B',
        roles: ['admin'],
        expiresAt: exp * 1000,
      });
    });

    it.each<[string, () => Promise<string>, AuthFailureReason]>([
      ['another secret', () => mintHs256(claims(), `${TEST_SECRET}-other`), 'bad_signature'],
      ['HS512, not accepted', () => mintHs256(claims(), TEST_SECRET, 'HS512'), 'bad_signature'],
      ['an unsigned token (alg none)', () => Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`), 'bad_signature'],
      ['not a JWT at all', () => Promise.resolve('not-a-token'), 'malformed'],
      ['three parts of garbage', () => Promise.resolve('a.b.c'), 'malformed'],
      ['a payload that is not JSON', () => Promise.resolve(signedRaw('not json')), 'malformed'],
      ['expired 31 s ago', () => mintHs256(claims({ exp: inSeconds(-31) })), 'expired'],
      ['not valid for another 31 s', () => mintHs256(claims({ nbf: inSeconds(31) })), 'not_yet_valid'],
      ['no exp', () => mintHs256(claims({ exp: undefined })), 'missing_claim'],
      ['no sub', () => mintHs256(claims({ sub: undefined })), 'missing_claim'],
      ['an exp that is not a number', () => mintHs256(claims({ exp: 'tomorrow' })), 'malformed'],
    ])('refuses %s', async (_what, token, reason) => {
      await expect(reasonOf(secretVerifier(), await token())).resolves.toBe(reason);
    });

    it('allows 30 s of clock skew on exp and nbf', async () => {
      const sut = secretVerifier();
      await expect(sut.verify(await mintHs256(claims({ exp: inSeconds(-25) })))).resolves.toMatchObject({ userId: 'user-1' });
      await expect(sut.verify(await mintHs256(claims({ nbf: inSeconds(25) })))).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('says when the token expired', async () => {
      const exp = inSeconds(-3600);
      await expect(secretVerifier().verify(await mintHs256(claims({ exp })))).rejects.toThrow(`The token expired at ${new Date(exp * 1000).toISOString()}`);
    });
  });

  describe('issuer and audience', () => {
    const sut = () => secretVerifier({ issuer: 'https://idp.example.com/', audience: ['chat', 'chat-web'] });

    it('accepts the issuer and any one of the audiences', async () => {
      const token = await mintHs256(claims({ iss: 'https://idp.example.com/', aud: ['other', 'chat-web'] }));
      await expect(sut().verify(token)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it.each<[string, Record<string, unknown>, AuthFailureReason]>([
      ['another issuer', { iss: 'https://evil.example.com/', aud: 'chat' }, 'wrong_issuer'],
      ['no issuer', { aud: 'chat' }, 'missing_claim'],
      ['another audience', { iss: 'https://idp.example.com/', aud: 'billing' }, 'wrong_audience'],
      ['no audience', { iss: 'https://idp.example.com/' }, 'missing_claim'],
    ])('refuses %s', async (_what, extra, reason) => {
      await expect(reasonOf(sut(), await mintHs256(claims(extra)))).resolves.toBe(reason);
    });

    it('ignores iss and aud when none is configured', async () => {
      await expect(secretVerifier().verify(await mintHs256(claims({ iss: 'anyone', aud: 'anything' })))).resolves.toMatchObject({ userId: 'user-1' });
    });
  });

  describe.each(['RS256', 'ES256', 'EdDSA'] as const)('with a %s PEM public key', (alg) => {
    let pair: TestKeyPair;
    let sut: TokenVerifier;

    beforeAll(async () => {
      pair = await TestKeyPair.generate(alg);
      sut = new TokenVerifier({ key: { kind: 'pem', pem: pair.publicPem }, rolesClaim: 'roles' });
    });

    it('verifies a token signed with the private key, with or without a kid', async () => {
      await expect(sut.verify(await pair.sign(claims({ sub: 'k-1' })))).resolves.toMatchObject({ userId: 'k-1' });
      await expect(sut.verify(await pair.sign(claims({ sub: 'k-1' }), { kid: false }))).resolves.toMatchObject({ userId: 'k-1' });
    });

    it('refuses a token signed by another key of the same kind', async () => {
      const other = await TestKeyPair.generate(alg);
      await expect(reasonOf(sut, await other.sign())).resolves.toBe('bad_signature');
    });

    it('refuses an HS256 token keyed with the public key itself (algorithm confusion)', async () => {
      await expect(reasonOf(sut, await mintHs256(claims(), pair.publicPem))).resolves.toBe('bad_signature');
    });
  });

  it('refuses a token of another algorithm than the PEM key', async () => {
    const rsa = await TestKeyPair.generate('RS256');
    const ec = await TestKeyPair.generate('ES256');
    const sut = new TokenVerifier({ key: { kind: 'pem', pem: rsa.publicPem }, rolesClaim: 'roles' });
    await expect(reasonOf(sut, await ec.sign())).resolves.toBe('bad_signature');
  });

  describe('with a JWKS URL', () => {
    let first: TestKeyPair;
    let second: TestKeyPair;
    let jwks: JwksServer;

    beforeEach(async () => {
      first = await TestKeyPair.generate('RS256', 'key-1');
      second = await TestKeyPair.generate('ES256', 'key-2');
      jwks = await JwksServer.start([first]);
    });

    afterEach(async () => {
      jest.restoreAllMocks();
      await jwks.close();
    });

    const jwksVerifier = () => new TokenVerifier({ key: { kind: 'jwks', url: jwks.url }, rolesClaim: 'roles' });

    it('fetches the key set once and verifies by kid from the cache', async () => {
      const sut = jwksVerifier();
      await expect(sut.verify(await first.sign(claims({ sub: 'a' })))).resolves.toMatchObject({ userId: 'a' });
      await expect(sut.verify(await first.sign(claims({ sub: 'b' })))).resolves.toMatchObject({ userId: 'b' });
      expect(jwks.fetches).toBe(1);
    });

    it(`refetches for an unknown kid, at most once per ${JWKS_COOLDOWN_MS} ms: a rotated key is taken without a restart`, async () => {
      const sut = jwksVerifier();
      await sut.verify(await first.sign());
      jwks.serve([first, second]);
      const token = await second.sign(claims({ sub: 'rotated' }));

      await expect(reasonOf(sut, token)).resolves.toBe('unknown_key'); // just fetched: cooling down
      expect(jwks.fetches).toBe(1);

      const now = Date.now();
      jest.spyOn(Date, 'now').mockReturnValue(now + JWKS_COOLDOWN_MS + 1);
      await expect(sut.verify(token)).resolves.toMatchObject({ userId: 'rotated' });
      expect(jwks.fetches).toBe(2);
      await expect(sut.verify(await first.sign())).resolves.toMatchObject({ userId: 'user-1' });
      expect(jwks.fetches).toBe(2);
    });

    it('refuses a key that is no longer published once the set is fetched again', async () => {
      const sut = jwksVerifier();
      await sut.verify(await first.sign());
      jwks.serve([second]);
      jest.spyOn(Date, 'now').mockReturnValue(Date.now() + JWKS_COOLDOWN_MS + 1);
      await expect(sut.verify(await second.sign())).resolves.toMatchObject({ userId: 'user-1' });
      await expect(reasonOf(sut, await first.sign())).resolves.toBe('unknown_key');
    });

    it('refuses a token signed with a key not in the set, and HS256 whatever its key', async () => {
      const stranger = await TestKeyPair.generate('RS256', 'key-1'); // same kid, another key
      await expect(reasonOf(jwksVerifier(), await stranger.sign())).resolves.toBe('bad_signature');
      await expect(reasonOf(jwksVerifier(), await mintHs256(claims(), TEST_SECRET))).resolves.toBe('bad_signature');
    });

    it('answers keys_unavailable (503) when the key set cannot be fetched', async () => {
      const url = jwks.url;
      await jwks.close();
      const sut = new TokenVerifier({ key: { kind: 'jwks', url }, rolesClaim: 'roles' });
      const error = await sut.verify(await first.sign()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthFailure);
      expect((error as AuthFailure).reason).toBe('keys_unavailable');
      expect((error as AuthFailure).status).toBe(503);
    });

    it('answers keys_unavailable when the endpoint answers something other than a key set', async () => {
      const sut = new TokenVerifier({ key: { kind: 'jwks', url: jwks.url.replace('jwks.json', 'nothing-here') }, rolesClaim: 'roles' });
      await expect(reasonOf(sut, await first.sign())).resolves.toBe('keys_unavailable');
    });
  });
});

describe(verifierSettings.name, () => {
  const none = { AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: undefined, AUTH_JWKS_URL: undefined, AUTH_JWT_ISSUER: undefined, AUTH_JWT_AUDIENCE: undefined, AUTH_ROLES_CLAIM: 'roles' };

  it('takes the one key source, the issuer, and the audiences split at commas', () => {
    expect(verifierSettings({ ...none, AUTH_JWKS_URL: 'https://idp/jwks', AUTH_JWT_ISSUER: 'https://idp/', AUTH_JWT_AUDIENCE: 'chat, chat-web,' })).toEqual({
      key: { kind: 'jwks', url: 'https://idp/jwks' },
      issuer: 'https://idp/',
      audience: ['chat', 'chat-web'],
      rolesClaim: 'roles',
    });
    expect(verifierSettings({ ...none, AUTH_JWT_SECRET: TEST_SECRET }).key).toEqual({ kind: 'secret', secret: TEST_SECRET });
    expect(verifierSettings({ ...none, AUTH_JWT_SECRET: TEST_SECRET }).audience).toBeUndefined();
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An HS256 JWS over an arbitrary payload string (SignJWT only signs JSON objects). */
function signedRaw(payload: string): string {
  const header = b64({ alg: 'HS256', typ: 'JWT' });
  const body = Buffer.from(payload).toString('base64url');
  const signature = createHmac('sha256', TEST_SECRET).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

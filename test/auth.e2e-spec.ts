import WebSocket from 'ws';
import { Hub } from '../src/hub/hub';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { refusedHandshake } from './support/handshake';
import { claims, inSeconds, JwksServer, mintHs256, TEST_SECRET, TestKeyPair } from './support/jwt';
import { runFailingServer, spawnServer, type ServerProcess } from './support/server-process';
import { startServer, type TestServer } from './support/test-app';

const ISSUER = 'https://idp.test/realms/chat';
const AUDIENCE = 'nest-chat';
const METRICS_TOKEN = 'scrape-me-0123456789';
const INVALID = 'Bearer error="invalid_token"';
const MISSING = 'Bearer realm="nest-chat"';
const JSON_TYPE = 'application/json; charset=utf-8';

function refusal(status: number, reason: string, message: string | RegExp) {
  const error = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status];
  return { statusCode: status, error, reason, message: typeof message === 'string' ? message : expect.stringMatching(message) };
}

async function get(url: string, token?: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  if (res.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

/** Connects and takes the connect sequence (welcome, history, join); returns the client and its welcome. */
async function joined(url: string, protocols?: string[], headers?: Record<string, string>): Promise<{ client: ChatClient; welcome: Frame }> {
  const client = await ChatClient.connect(url, headers ? { headers } : undefined, protocols);
  const welcome = await client.nextOfType('welcome');
  await client.nextOfType('history');
  await client.nextOfType('notification');
  return { client, welcome };
}

describe('sign-in with AUTH_MODE=jwt (e2e)', () => {
  describe('an HS256 secret, with issuer and audience', () => {
    let server: TestServer;
    const token = (overrides: Record<string, unknown> = {}) => mintHs256(claims({ iss: ISSUER, aud: AUDIENCE, ...overrides }));

    beforeAll(async () => {
      server = await startServer({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, METRICS_TOKEN });
    });

    afterAll(() => server.close());

    describe('the handshake', () => {
      let observer: ChatClient;

      beforeAll(async () => {
        ({ client: observer } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'observer' })}`));
      });

      afterAll(() => observer.close());

      it.each<[string, () => Promise<Record<string, string>>, string, string, string | RegExp]>([
        ['no token', () => Promise.resolve({}), MISSING, 'missing', 'A bearer token is required'],
        ['a token that is no JWT', () => Promise.resolve({ authorization: 'Bearer not-a-jwt' }), INVALID, 'malformed', 'The token is not a well-formed signed JWT'],
        ['another Authorization scheme', () => Promise.resolve({ authorization: 'Basic dXNlcjpwYXNz' }), INVALID, 'malformed', 'The Authorization header must be "Bearer <token>"'],
        [
          'a token signed with another secret',
          async () => ({ authorization: `Bearer ${await mintHs256(claims({ iss: ISSUER, aud: AUDIENCE }), `${TEST_SECRET}!`)}` }),
          INVALID,
          'bad_signature',
          "The token's signature does not verify",
        ],
        ['an expired token', async () => ({ authorization: `Bearer ${await token({ exp: inSeconds(-120) })}` }), INVALID, 'expired', /^The token expired at \d{4}-\d\d-\d\dT/],
        [
          'a token not yet valid',
          async () => ({ authorization: `Bearer ${await token({ nbf: inSeconds(120) })}` }),
          INVALID,
          'not_yet_valid',
          /^The token is not valid before \d{4}-\d\d-\d\dT/,
        ],
        [
          'a token from another issuer',
          async () => ({ authorization: `Bearer ${await token({ iss: 'https://evil.test/' })}` }),
          INVALID,
          'wrong_issuer',
          `The token's issuer (iss) must be "${ISSUER}"`,
        ],
        [
          'a token for another audience',
          async () => ({ authorization: `Bearer ${await token({ aud: 'billing' })}` }),
          INVALID,
          'wrong_audience',
          `The token's audience (aud) must include "${AUDIENCE}"`,
        ],
        ['a token without sub', async () => ({ authorization: `Bearer ${await token({ sub: undefined })}` }), INVALID, 'missing_claim', 'The token has no "sub" claim'],
      ])('refuses %s with 401 before the upgrade', async (_what, headers, challenge, reason, message) => {
        const answer = await refusedHandshake(server.wsUrl, { headers: await headers() });

        expect(answer).toEqual({ status: 401, headers: expect.objectContaining({ 'www-authenticate': challenge, 'content-type': JSON_TYPE }), body: refusal(401, reason, message) });
      });

      it('refuses a bad token given as the subprotocol or on the query the same way', async () => {
        const expired = await token({ exp: inSeconds(-120) });
        const byProtocol = await refusedHandshake(server.wsUrl, { protocols: ['bearer', expired] });
        const byQuery = await refusedHandshake(`${server.wsUrl}?access_token=${expired}`);

        for (const answer of [byProtocol, byQuery]) {
          expect(answer).toMatchObject({ status: 401, headers: { 'www-authenticate': INVALID }, body: { statusCode: 401, reason: 'expired' } });
        }
      });

      it('refuses a token sent two ways at once', async () => {
        const good = await token();
        const answer = await refusedHandshake(`${server.wsUrl}?access_token=${good}`, { headers: { authorization: `Bearer ${good}` } });

        expect(answer.body).toEqual(refusal(401, 'malformed', 'Send the token one way only: the Authorization header, the bearer subprotocol or access_token'));
      });

      it('opens no connection for a refused handshake: nothing broadcast, nobody online', async () => {
        await refusedHandshake(server.wsUrl);
        await refusedHandshake(server.wsUrl, { headers: { authorization: `Bearer ${await token({ exp: inSeconds(-120) })}` } });

        await observer.expectNoMore('notification', 300);
        expect(server.app.get(Hub).size).toBe(1);
      });

      it('takes the token from the Authorization header', async () => {
        const { client, welcome } = await joined(server.wsUrl, undefined, { authorization: `Bearer ${await token({ sub: 'h-1', preferred_username: 'header.user' })}` });

        expect(welcome).toMatchObject({ type: 'welcome', nickname: 'header.user' });
        await client.close();
      });

      it('takes the token from the subprotocol pair and answers Sec-WebSocket-Protocol: bearer', async () => {
        const { client, welcome } = await joined(server.wsUrl, ['bearer', await token({ sub: 'p-1', preferred_username: 'protocol.user' })]);

        expect(client.socket.protocol).toBe('bearer');
        expect(welcome).toMatchObject({ nickname: 'protocol.user' });
        await client.close();
      });

      it('takes the token from ?access_token=, alongside a resume', async () => {
        const client = await ChatClient.connect(`${server.wsUrl}?rooms=general&since=0&access_token=${await token({ sub: 'q-1', preferred_username: 'query.user' })}`);

        await expect(client.nextOfType('welcome')).resolves.toMatchObject({ nickname: 'query.user', rooms: ['general'] });
        await expect(client.nextOfType('resumed')).resolves.toMatchObject({ type: 'resumed' });
        await client.close();
      });
    });

    describe('the connection', () => {
      it.each([
        [{ preferred_username: 'jdoe', name: 'John Doe' }, 'jdoe'],
        [{ name: '  John \u200B  Doe ' }, 'John Doe'],
        [{}, 'sub-only'],
      ])('is named by the claims %j: %s', async (names, nickname) => {
        const { client, welcome } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'sub-only', ...names })}`);

        expect(welcome).toMatchObject({ nickname, message: `Welcome, ${nickname}` });
        client.send('message', { message: `hi from ${nickname}` });
        await expect(client.nextOfType('message')).resolves.toMatchObject({ nickname, message: `hi from ${nickname}` });
        await client.close();
      });

      it('answers nick with FORBIDDEN and keeps the name', async () => {
        const { client } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'n-1', preferred_username: 'Nina' })}`);
        client.send('nick', { nickname: 'bob' });

        await expect(client.nextOfType('error')).resolves.toEqual({
          type: 'error',
          code: 'FORBIDDEN',
          message: 'Your nickname comes from your sign-in (the identity provider); it cannot be changed here',
          event: 'nick',
        });
        client.send('who', { room: 'general' });
        await expect(client.nextOfType('presence')).resolves.toMatchObject({ users: expect.arrayContaining(['Nina']) as unknown });
        await client.close();
      });

      it('ignores the anonymous reconnect token ?token=', async () => {
        const first = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'r-1', preferred_username: 'first' })}`);
        const reconnectToken = String(first.welcome.reconnectToken);
        const second = await joined(`${server.wsUrl}?token=${reconnectToken}&access_token=${await token({ sub: 'r-2', preferred_username: 'second' })}`);

        expect(second.welcome.nickname).toBe('second');
        await first.client.expectNoMore('error', 200);
        expect(first.client.socket.readyState).toBe(WebSocket.OPEN);
        await Promise.all([first.client.close(), second.client.close()]);
      });

      it('is closed with 4001 "token expired" at the token\'s exp', async () => {
        const exp = inSeconds(2);
        const { client } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'e-1', exp })}`);

        await expect(client.waitClosed(5000)).resolves.toEqual({ code: 4001, reason: 'token expired' });
        expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
      });

      it('outlives its first token after an auth with a new one for the same sub', async () => {
        const firstExp = inSeconds(2);
        const { client } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'a-1', exp: firstExp })}`);
        const laterExp = inSeconds(600);

        client.send('auth', { token: await token({ sub: 'a-1', exp: laterExp }) });
        await expect(client.nextOfType('auth_ok')).resolves.toEqual({ type: 'auth_ok', expiresAt: new Date(laterExp * 1000).toISOString() });

        await new Promise((resolve) => setTimeout(resolve, firstExp * 1000 - Date.now() + 1000));
        expect(client.socket.readyState).toBe(WebSocket.OPEN);
        client.send('message', { message: 'still here', clientMsgId: 'late-1' });
        await expect(client.nextOfType('ack')).resolves.toMatchObject({ clientMsgId: 'late-1' });
        await client.close();
      });

      it('refuses auth with the token of another sub (FORBIDDEN) and keeps the connection as it was', async () => {
        const { client } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'f-1', preferred_username: 'Fay' })}`);
        client.send('auth', { token: await token({ sub: 'f-2', exp: inSeconds(600) }) });

        await expect(client.nextOfType('error')).resolves.toEqual({
          type: 'error',
          code: 'FORBIDDEN',
          message: 'That token is for another user; a connection stays with the user who opened it',
          event: 'auth',
        });
        client.send('message', { message: 'as Fay' });
        await expect(client.nextOfType('message')).resolves.toMatchObject({ nickname: 'Fay', message: 'as Fay' });
        await client.close();
      });

      it('refuses auth with an invalid token (UNAUTHORIZED, saying why) and keeps the connection', async () => {
        const { client } = await joined(`${server.wsUrl}?access_token=${await token({ sub: 'i-1' })}`);
        client.send('auth', { token: await token({ sub: 'i-1', aud: 'billing' }) });

        await expect(client.nextOfType('error')).resolves.toEqual({
          type: 'error',
          code: 'UNAUTHORIZED',
          message: `The token's audience (aud) must include "${AUDIENCE}" (wrong_audience)`,
          event: 'auth',
        });
        client.send('auth', {});
        await expect(client.nextOfType('error')).resolves.toMatchObject({ code: 'VALIDATION', event: 'auth' });
        expect(client.socket.readyState).toBe(WebSocket.OPEN);
        await client.close();
      });
    });

    describe('REST', () => {
      it.each(['/api/messages', '/api/rooms', '/api/rooms/general/users', '/api/users', '/api/users?access_token=x'])('answers %s without a token with 401', async (path) => {
        const res = await get(`${server.httpUrl}${path}`);

        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(MISSING);
        expect(res.headers.get('content-type')).toBe(JSON_TYPE);
        expect(res.body).toEqual(refusal(401, 'missing', 'A bearer token is required'));
      });

      it('answers a bad token with 401 invalid_token saying why', async () => {
        const res = await get(`${server.httpUrl}/api/rooms`, await token({ exp: inSeconds(-120) }));

        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(INVALID);
        expect(res.body).toEqual(refusal(401, 'expired', /^The token expired at /));
      });

      it('refuses a path spelled to dodge the check: the route matched decides', async () => {
        await expect(get(`${server.httpUrl}/%61pi/rooms`)).resolves.toMatchObject({ status: 401 });
        await expect(get(`${server.httpUrl}/api/rooms/`)).resolves.toMatchObject({ status: 401 });
      });

      it('serves every /api route to a valid token', async () => {
        const good = await token();
        for (const path of ['/api/messages', '/api/rooms', '/api/rooms/general/users', '/api/users']) {
          await expect(get(`${server.httpUrl}${path}`, good)).resolves.toMatchObject({ status: 200 });
        }
      });

      it('keeps the health probes, Swagger UI and the AsyncAPI document open', async () => {
        for (const path of ['/health/live', '/health/ready', '/api/docs', '/api/docs-json', '/asyncapi.yaml']) {
          await expect(get(`${server.httpUrl}${path}`)).resolves.toMatchObject({ status: 200 });
        }
        const openApi = (await get(`${server.httpUrl}/api/docs-json`)).body as { components: { securitySchemes: unknown } };
        expect(openApi.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
      });

      it('opens /metrics to METRICS_TOKEN or a token with the role admin only', async () => {
        const none = await get(`${server.httpUrl}/metrics`);
        expect([none.status, none.headers.get('www-authenticate'), none.body]).toEqual([401, MISSING, refusal(401, 'missing', 'A bearer token is required')]);

        const user = await get(`${server.httpUrl}/metrics`, await token({ roles: ['user'] }));
        expect([user.status, user.headers.get('www-authenticate'), user.body]).toEqual([
          403,
          'Bearer error="insufficient_scope"',
          refusal(403, 'insufficient_role', 'GET /metrics needs the role "admin" or METRICS_TOKEN'),
        ]);

        await expect(get(`${server.httpUrl}/metrics`, await token({ roles: ['admin'] }))).resolves.toMatchObject({ status: 200 });
        await expect(get(`${server.httpUrl}/metrics`, METRICS_TOKEN)).resolves.toMatchObject({ status: 200 });
        await expect(get(`${server.httpUrl}/metrics`, `${METRICS_TOKEN}x`)).resolves.toMatchObject({ status: 401, body: { reason: 'malformed' } });
      });
    });
  });

  describe.each(['RS256', 'ES256', 'EdDSA'] as const)('a %s PEM public key', (alg) => {
    let server: TestServer;
    let pair: TestKeyPair;

    beforeAll(async () => {
      pair = await TestKeyPair.generate(alg);
      server = await startServer({ AUTH_MODE: 'jwt', AUTH_JWT_PUBLIC_KEY: pair.publicPem });
    });

    afterAll(() => server.close());

    it('accepts a token signed with its private key', async () => {
      const { client, welcome } = await joined(server.wsUrl, ['bearer', await pair.sign(claims({ sub: 'k-1', name: `${alg} user` }))]);

      expect(welcome.nickname).toBe(`${alg} user`);
      await client.close();
    });

    it('refuses one signed with another key, and an HS256 one keyed with the public key', async () => {
      const other = await TestKeyPair.generate(alg);
      await expect(refusedHandshake(`${server.wsUrl}?access_token=${await other.sign()}`)).resolves.toMatchObject({ status: 401, body: { reason: 'bad_signature' } });
      const confused = await mintHs256(claims(), pair.publicPem);
      await expect(refusedHandshake(`${server.wsUrl}?access_token=${confused}`)).resolves.toMatchObject({ status: 401, body: { reason: 'bad_signature' } });
    });
  });

  describe('a JWKS URL served over HTTP', () => {
    let server: TestServer;
    let jwks: JwksServer;
    let first: TestKeyPair;

    beforeAll(async () => {
      first = await TestKeyPair.generate('RS256', 'first');
      jwks = await JwksServer.start([first]);
      server = await startServer({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: jwks.url });
    });

    afterAll(async () => {
      await server.close();
      await jwks.close();
    });

    it('takes a key published later (a rotation) without a restart; an unpublished kid stays refused', async () => {
      const a = await joined(server.wsUrl, ['bearer', await first.sign(claims({ sub: 'j-1', preferred_username: 'before' }))]);
      expect(a.welcome.nickname).toBe('before');
      expect(jwks.fetches).toBe(1);

      const next = await TestKeyPair.generate('ES256', 'next');
      const unknown = await refusedHandshake(`${server.wsUrl}?access_token=${await next.sign()}`);
      expect(unknown).toMatchObject({ status: 401, headers: { 'www-authenticate': INVALID }, body: { reason: 'unknown_key' } });

      jwks.serve([first, next]);
      await new Promise((resolve) => setTimeout(resolve, 5100)); // the refetch cooldown (JWKS_COOLDOWN_MS)
      const b = await joined(server.wsUrl, ['bearer', await next.sign(claims({ sub: 'j-2', preferred_username: 'after' }))]);
      expect(b.welcome.nickname).toBe('after');
      expect(jwks.fetches).toBe(2);
      await Promise.all([a.client.close(), b.client.close()]);
    });

    it('answers 503 while the key set cannot be fetched', async () => {
      const down = await JwksServer.start([first]);
      const url = down.url;
      await down.close();
      const other = await startServer({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: url });
      try {
        const answer = await refusedHandshake(`${other.wsUrl}?access_token=${await first.sign()}`);
        expect(answer).toEqual({
          status: 503,
          headers: expect.objectContaining({ 'retry-after': '5', 'content-type': JSON_TYPE }),
          body: refusal(503, 'keys_unavailable', "The identity provider's signing keys (AUTH_JWKS_URL) could not be fetched; try again shortly"),
        });
        await expect(get(`${other.httpUrl}/api/rooms`, await first.sign())).resolves.toMatchObject({ status: 503, body: { reason: 'keys_unavailable' } });
      } finally {
        await other.close();
      }
    });
  });
});

describe('AUTH_MODE=anonymous, the default (e2e)', () => {
  it('asks for no token anywhere and ignores one offered as the bearer subprotocol', async () => {
    const server = await startServer();
    try {
      const { client, welcome } = await joined(server.wsUrl, ['bearer', 'anything']);
      expect(welcome.nickname).toBe('Guest1');
      expect(client.socket.protocol).toBe('bearer');
      await client.close();
      for (const path of ['/api/rooms', '/metrics', '/health/ready']) {
        await expect(get(`${server.httpUrl}${path}`)).resolves.toMatchObject({ status: 200 });
      }
    } finally {
      await server.close();
    }
  });

  it('guards /metrics with METRICS_TOKEN when it is set, and nothing else', async () => {
    const server = await startServer({ METRICS_TOKEN });
    try {
      await expect(get(`${server.httpUrl}/metrics`)).resolves.toMatchObject({ status: 401, body: refusal(401, 'missing', 'GET /metrics needs METRICS_TOKEN as a bearer token') });
      await expect(get(`${server.httpUrl}/metrics`, 'wrong')).resolves.toMatchObject({ status: 401, body: refusal(401, 'unknown_token', 'The bearer token is not METRICS_TOKEN') });
      await expect(get(`${server.httpUrl}/metrics`, METRICS_TOKEN)).resolves.toMatchObject({ status: 200 });
      await expect(get(`${server.httpUrl}/api/rooms`)).resolves.toMatchObject({ status: 200 });
    } finally {
      await server.close();
    }
  });
});

describe('the built server with sign-in (e2e)', () => {
  it.each([
    [{ AUTH_MODE: 'jwt' }, 'AUTH_MODE="jwt": AUTH_MODE=jwt needs exactly one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL (none is set)'],
    [
      { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET, AUTH_JWKS_URL: 'https://idp.test/jwks' },
      'AUTH_MODE="jwt": AUTH_MODE=jwt needs exactly one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL (AUTH_JWT_SECRET and AUTH_JWKS_URL are set)',
    ],
    [
      { AUTH_JWT_SECRET: TEST_SECRET },
      `AUTH_JWT_SECRET=(${TEST_SECRET.length} characters, not shown): AUTH_JWT_SECRET is set but AUTH_MODE is anonymous: set AUTH_MODE=jwt, or unset AUTH_JWT_SECRET`,
    ],
    [{ AUTH_MODE: 'jwt', AUTH_JWT_PUBLIC_KEY: 'not a key' }, 'AUTH_JWT_PUBLIC_KEY=(9 characters, not shown): AUTH_JWT_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)'],
  ])('stops at startup on %j with the usual configuration error, exit code 1', async (env, line) => {
    const { code, stderr } = await runFailingServer({ PORT: '0', SQLITE_PATH: ':memory:', ...env });

    expect(code).toBe(1);
    expect(stderr).toBe(`Invalid configuration:\n  ${line}\n`);
  });

  describe('its logs', () => {
    let server: ServerProcess;

    beforeAll(async () => {
      server = await spawnServer({ SQLITE_PATH: ':memory:', LOG_LEVEL: 'trace', LOG_FORMAT: 'json', AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET, METRICS_TOKEN });
    });

    afterAll(async () => {
      server.child.kill('SIGTERM');
      await withTimeout(server.exited, 10000, 'server exit');
    });

    it('say mode jwt in the ready banner', () => {
      expect(server.output()).toMatch(/nest-chat ready on port \d+: .*, mode jwt"/);
    });

    it('never show a token: on the handshake (header, subprotocol, query), refused or not, in auth, or on REST', async () => {
      const httpUrl = `http://127.0.0.1:${server.port}`;
      const tokens = await Promise.all(['header', 'protocol', 'query', 'rest', 'rest-query'].map((sub) => mintHs256(claims({ sub }))));
      tokens.splice(3, 0, await mintHs256(claims({ sub: 'query', exp: inSeconds(900) })));
      const [header, protocol, query, renewed, rest, restQuery] = tokens;
      const forged = await mintHs256(claims({ sub: 'forged' }), `${TEST_SECRET}-forged`);
      tokens.push(forged, METRICS_TOKEN);

      const a = await joined(server.wsUrl, undefined, { authorization: `Bearer ${header}` });
      const b = await joined(server.wsUrl, ['bearer', protocol]);
      const c = await joined(`${server.wsUrl}?access_token=${query}`);
      c.client.send('auth', { token: renewed });
      await c.client.nextOfType('auth_ok');
      await expect(refusedHandshake(`${server.wsUrl}?access_token=${forged}`)).resolves.toMatchObject({ status: 401 });
      await expect(get(`${httpUrl}/api/rooms`, rest)).resolves.toMatchObject({ status: 200 });
      await expect(get(`${httpUrl}/api/users?access_token=${restQuery}`)).resolves.toMatchObject({ status: 401 });
      await expect(get(`${httpUrl}/metrics`, METRICS_TOKEN)).resolves.toMatchObject({ status: 200 });
      await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
      const deadline = Date.now() + 5000;
      while ((server.output().match(/"msg":"connection close"/g) ?? []).length < 3) {
        if (Date.now() > deadline) throw new Error(`3 connection close lines not logged within 5000 ms:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const output = server.output();
      expect(output).toContain('"msg":"handshake refused","reason":"bad_signature"');
      expect(output).toContain('"url":"/api/users?access_token=[Redacted]","query":{"access_token":"[Redacted]"}');
      expect(output).toContain('"authorization":"[Redacted]"');
      for (const token of tokens) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(token.split('.').at(-1));
      }
    });
  });
});

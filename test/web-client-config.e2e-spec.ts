import { TEST_SECRET } from './support/jwt';
import { startServer, type TestServer } from './support/test-app';

const LOGIN = 'https://idp.example.com/login?client=chat';
const REFRESH = 'https://idp.example.com:8443/session/token';

async function get(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.httpUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('GET /client-config.json and the web client headers (e2e)', () => {
  let server: TestServer;

  afterEach(() => server.close());

  it('anonymous mode: the mode and no URLs, never cached; the page may connect to itself only', async () => {
    server = await startServer();
    const res = await get(server, '/client-config.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(res.text)).toEqual({ authMode: 'anonymous', loginUrl: null, refreshUrl: null });

    const page = await get(server, '/');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.text).not.toContain('Content-Security-Policy"'); // no <meta> policy that would block the refresh URL
    expect((await get(server, '/main.js')).headers.get('content-security-policy')).toBe(page.headers.get('content-security-policy'));
  });

  it('jwt mode: open without a token, with the login and refresh URLs; the refresh origin is allowed to the page', async () => {
    server = await startServer({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET, AUTH_LOGIN_URL: LOGIN, AUTH_REFRESH_URL: REFRESH });
    const res = await get(server, '/client-config.json');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ authMode: 'jwt', loginUrl: LOGIN, refreshUrl: REFRESH });
    // A token that is no good changes nothing: the route asks for none.
    expect((await get(server, '/client-config.json', { authorization: 'Bearer not-a-jwt' })).status).toBe(200);
    expect((await get(server, '/api/rooms')).status).toBe(401);

    const page = await get(server, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' https://idp.example.com:8443;");
  });

  it('is not part of the REST API description', async () => {
    server = await startServer();
    const docs = JSON.parse((await get(server, '/api/docs-json')).text) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths).some((path) => path.includes('client-config'))).toBe(false);
  });
});

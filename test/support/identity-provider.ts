import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the provider answered: its path and the headers that matter to sign-in. */
export interface ProviderRequest {
  path: string;
  returnTo: string | null;
  origin: string | undefined;
  cookie: string | undefined;
}

/** How /refresh answers: a token (JSON or text), an error status, or not yet (until release()). */
export type RefreshMode = 'json' | 'text' | 'fail' | 'hold';

/**
 * The sign-in side of an identity provider, as the web client sees it (AUTH_LOGIN_URL and
 * AUTH_REFRESH_URL), on 127.0.0.1 port 0, another origin than the chat server:
 * - `GET /login?return_to=<page>` signs the browser in (a cookie) and sends it back to
 *   `<page>#token=<jwt>`;
 * - `GET /refresh` answers a fresh token to a browser with that cookie, with CORS for the page.
 * `issue` mints the tokens handed out.
 */
export class TestIdentityProvider {
  readonly requests: ProviderRequest[] = [];
  refreshMode: RefreshMode = 'json';
  private held: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    public issue: () => Promise<string>,
  ) {}

  static async start(issue: () => Promise<string>): Promise<TestIdentityProvider> {
    const server = createServer((req, res) => void provider.handle(req, res));
    const provider = new TestIdentityProvider(server, issue);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return provider;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get loginUrl(): string {
    return `${this.origin}/login`;
  }

  get refreshUrl(): string {
    return `${this.origin}/refresh`;
  }

  /** The requests made to `path`. */
  hits(path: string): ProviderRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Answers the /refresh requests held so far (refreshMode 'hold'), with a token. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const answer of held) answer();
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    this.requests.push({ path: url.pathname, returnTo: url.searchParams.get('return_to'), origin: req.headers.origin, cookie: req.headers.cookie });
    if (url.pathname === '/login') {
      const returnTo = url.searchParams.get('return_to') ?? '';
      res.writeHead(302, { location: `${returnTo}#token=${await this.issue()}`, 'set-cookie': 'idp_session=signed-in; Path=/; SameSite=Lax' });
      res.end();
      return;
    }
    if (url.pathname !== '/refresh') {
      res.writeHead(404).end();
      return;
    }
    // A credentialed cross-origin fetch needs the exact origin and Allow-Credentials.
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-credentials': 'true', vary: 'Origin' };
    if (this.refreshMode === 'fail') {
      res.writeHead(503, { ...cors, 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      return;
    }
    if (this.refreshMode === 'hold') await new Promise<void>((resolve) => this.held.push(resolve));
    const token = await this.issue();
    if (this.refreshMode === 'text') {
      res.writeHead(200, { ...cors, 'content-type': 'text/plain' }).end(token);
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ token }));
  }
}

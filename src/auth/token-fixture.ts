// Tokens and key sets for the auth specs (unit, and e2e through test/support/jwt.ts). Kept out of dist/.
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HS256 secret for AUTH_JWT_SECRET: 32 characters or more, as the configuration requires. */
export const TEST_SECRET = 'test-secret-for-hs256-0123456789abcdef';

const nowS = (): number => Math.floor(Date.now() / 1000);

/** Claims with a default `sub` and an `exp` 5 minutes ahead; `undefined` values leave a claim out. */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = { sub: 'user-1', exp: nowS() + 300, ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** `exp` (or `nbf`) `seconds` from now, in the claims' seconds. */
export const inSeconds = (seconds: number): number => nowS() + seconds;

/** A token signed with `secret` (HS256 by default), its claims exactly `payload`. */
export function mintHs256(payload: JWTPayload = claims(), secret = TEST_SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

export type KeyAlg = 'RS256' | 'ES256' | 'EdDSA';

/** An asymmetric key pair made by jose, with its public key as PEM (AUTH_JWT_PUBLIC_KEY) and as a JWK (a JWKS entry). */
export class TestKeyPair {
  private constructor(
    readonly alg: KeyAlg,
    readonly kid: string,
    private readonly privateKey: CryptoKey,
    readonly publicPem: string,
    readonly publicJwk: JWK,
  ) {}

  static async generate(alg: KeyAlg, kid = `${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`): Promise<TestKeyPair> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    return new TestKeyPair(alg, kid, privateKey, await exportSPKI(publicKey), jwk);
  }

  /** A token signed with this key; its header names the key id unless `kid` is false. */
  sign(payload: JWTPayload = claims(), { kid = true }: { kid?: boolean } = {}): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: this.alg, typ: 'JWT', ...(kid ? { kid: this.kid } : {}) }).sign(this.privateKey);
  }
}

/**
 * A real HTTP JWKS endpoint on 127.0.0.1, port 0, as an identity provider serves one. `serve()`
 * swaps the key set it answers with (a key rotation); `fetches` counts the requests it answered.
 */
export class JwksServer {
  fetches = 0;
  private keys: JWK[];

  private constructor(
    private readonly server: Server,
    keys: TestKeyPair[],
  ) {
    this.keys = keys.map((k) => k.publicJwk);
  }

  static async start(keys: TestKeyPair[]): Promise<JwksServer> {
    const server = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      self.fetches++;
      res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: self.keys }));
    });
    const self = new JwksServer(server, keys);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  serve(keys: TestKeyPair[]): void {
    this.keys = keys.map((k) => k.publicJwk);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

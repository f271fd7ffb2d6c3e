import type { IncomingMessage } from 'node:http';
import { AuthFailure } from '../auth/auth-failure';
import { AuthService } from '../auth/auth.service';
import { claims, mintHs256, TEST_SECRET } from '../auth/token-fixture';
import { TokenVerifier } from '../auth/token-verifier';
import { authenticateHandshake, BEARER_PROTOCOL, chooseProtocol, handshakeIdentity, handshakeToken } from './handshake';

function request(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage;
}

describe(handshakeToken.name, () => {
  it.each([
    ['the Authorization header', request('/', { authorization: 'Bearer h.e.ader' }), 'h.e.ader'],
    ['the subprotocol pair', request('/', { 'sec-websocket-protocol': 'bearer, s.u.b' }), 's.u.b'],
    ['the subprotocol pair among others', request('/', { 'sec-websocket-protocol': 'chat.v1,bearer,s.u.b' }), 's.u.b'],
    ['the query', request('/?since=4&access_token=q.u.ery&rooms=general'), 'q.u.ery'],
  ])('takes the token from %s', (_where, req, token) => {
    expect(handshakeToken(req)).toBe(token);
  });

  it('is undefined when none is given (another subprotocol is not one)', () => {
    expect(handshakeToken(request('/?token=reconnect'))).toBeUndefined();
    expect(handshakeToken(request('/', { 'sec-websocket-protocol': 'chat.v1' }))).toBeUndefined();
  });

  it.each([
    ['two ways at once', request('/?access_token=a', { authorization: 'Bearer b' }), 'Send the token one way only'],
    ['the header and the subprotocol', request('/', { authorization: 'Bearer b', 'sec-websocket-protocol': 'bearer, c' }), 'Send the token one way only'],
    ['access_token twice', request('/?access_token=a&access_token=b'), 'access_token may be given once'],
    ['bearer with no token after it', request('/', { 'sec-websocket-protocol': 'chat.v1, bearer' }), 'The bearer subprotocol must be followed by the token'],
    ['another Authorization scheme', request('/', { authorization: 'Basic dXNlcjpwYXNz' }), 'The Authorization header must be "Bearer <token>"'],
  ])('refuses %s as malformed', (_what, req, message) => {
    expect(() => handshakeToken(req)).toThrow(AuthFailure);
    expect(() => handshakeToken(req)).toThrow(message);
  });
});

describe(chooseProtocol.name, () => {
  it('answers bearer, never the token after it, wherever bearer is offered', () => {
    expect(chooseProtocol(new Set(['bearer', 'e.y.J']))).toBe(BEARER_PROTOCOL);
    expect(chooseProtocol(new Set(['e.y.J', 'bearer']))).toBe(BEARER_PROTOCOL);
  });

  it("answers the first protocol otherwise, as ws does, and none when none is offered", () => {
    expect(chooseProtocol(new Set(['chat.v1', 'chat.v2']))).toBe('chat.v1');
    expect(chooseProtocol(new Set())).toBe(false);
  });
});

describe(authenticateHandshake.name, () => {
  const auth = new AuthService({ mode: 'jwt', verifier: new TokenVerifier({ key: { kind: 'secret', secret: TEST_SECRET }, rolesClaim: 'roles' }) });

  it('keeps the identity of the request for handleConnection', async () => {
    const req = request(`/?access_token=${await mintHs256(claims({ sub: 'u-9', name: 'Nine' }))}`);
    await expect(authenticateHandshake(req, auth)).resolves.toMatchObject({ userId: 'u-9', nickname: 'Nine' });
    expect(handshakeIdentity(req)).toMatchObject({ userId: 'u-9' });
  });

  it('keeps nothing for a refused request', async () => {
    const req = request('/');
    await expect(authenticateHandshake(req, auth)).rejects.toThrow(new AuthFailure('missing', 'A bearer token is required'));
    expect(handshakeIdentity(req)).toBeUndefined();
  });
});

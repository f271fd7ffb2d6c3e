import { ChatClient, type Frame } from './chat-client';
import { claims, mintHs256, TEST_SECRET } from './jwt';
import type { TestServer } from './test-app';

/** startServer() settings for jwt mode with the test HS256 secret. */
export const JWT_ENV = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: TEST_SECRET } as const;

/** A token for user `sub`, named `name` (preferred_username), with `roles`. */
export function tokenFor(sub: string, name = sub, roles: string[] = []): Promise<string> {
  return mintHs256(claims({ sub, preferred_username: name, roles }));
}

export interface SignedIn {
  client: ChatClient;
  welcome: Frame;
}

/**
 * A connection of user `sub` (a token in the Authorization header), past its connect sequence:
 * welcome, a history per room, then its own join notification for each of `welcome.rooms`.
 */
export async function signIn(server: TestServer, sub: string, name = sub, roles: string[] = [], query = ''): Promise<SignedIn> {
  const token = await tokenFor(sub, name, roles);
  const client = await ChatClient.connect(`${server.wsUrl}${query}`, { headers: { authorization: `Bearer ${token}` } });
  const welcome = await client.nextOfType('welcome');
  for (const room of welcome.rooms as string[]) {
    await client.next((f) => f.type === 'notification' && f.event === 'join' && f.room === room && f.userId === sub);
  }
  return { client, welcome };
}

/** A REST call with user `sub`'s token (none for undefined): status and JSON body. */
export async function getAs(server: TestServer, path: string, sub?: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = sub === undefined ? {} : { authorization: `Bearer ${await tokenFor(sub)}` };
  const res = await fetch(`${server.httpUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

/** The join or leave notification of user `sub` (named like its id in these specs) for `room`. */
export const notice = (event: 'join' | 'leave', room: string, sub: string, name = sub): Frame => ({
  type: 'notification',
  event,
  room,
  nickname: name,
  message: `${name} ${event === 'join' ? 'joined' : 'left'}`,
  userId: sub,
});

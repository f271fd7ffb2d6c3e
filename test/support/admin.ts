import { ChatClient, type Frame } from './chat-client';
import type { TestServer } from './test-app';

/** ADMIN_TOKEN for the servers of the admin specs. */
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

export interface Answer {
  status: number;
  body: unknown;
  text: string;
  contentType: string | null;
}

/** A REST call with `token` as the bearer (none for undefined) and a JSON `body`; the body is parsed when it is JSON. */
export async function call(server: TestServer, method: string, path: string, { token, body }: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  let parsed: unknown = text;
  if (contentType?.startsWith('application/json') && text !== '') parsed = JSON.parse(text) as unknown;
  return { status: res.status, body: parsed, text, contentType };
}

/** An admin's REST call (ADMIN_TOKEN). */
export const asAdmin = (server: TestServer, method: string, path: string, body?: unknown): Promise<Answer> =>
  call(server, method, path, { token: ADMIN_TOKEN, body });

/** Sends a room message with a clientMsgId and waits for its ack; returns its id. */
export async function say(client: ChatClient, room: string, message: string): Promise<number> {
  const clientMsgId = `c-${Math.random().toString(36).slice(2)}`;
  client.send('message', { room, message, clientMsgId });
  const ack: Frame = await client.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
  return ack.id as number;
}

/** The value of one sample of /metrics (0 when absent), e.g. `chat_retention_deleted_total{kind="room"}`. */
export async function metric(server: TestServer, sample: string): Promise<number> {
  const { text } = await asAdmin(server, 'GET', '/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

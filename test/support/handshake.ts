import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { withTimeout } from './chat-client';

export interface Refusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * Opens a WebSocket handshake that the server must refuse before the upgrade: the HTTP status,
 * headers and JSON body it answered. Fails if the connection is upgraded instead.
 */
export function refusedHandshake(url: string, { headers, protocols }: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<Refusal> {
  const socket = new WebSocket(url, protocols ?? [], { headers, perMessageDeflate: false });
  return withTimeout(
    new Promise<Refusal>((resolve, reject) => {
      socket.on('unexpected-response', (_req, res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as unknown }));
      });
      socket.on('open', () => {
        socket.terminate();
        reject(new Error('the handshake was upgraded'));
      });
      socket.on('error', reject);
    }),
    5000,
    `refusal of ${url}`,
  );
}

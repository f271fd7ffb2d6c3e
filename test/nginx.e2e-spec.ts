import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, withTimeout, type Frame } from './support/chat-client';
import { startCluster, type Cluster } from './support/cluster';
import { freePort, type ServerProcess } from './support/server-process';
import { describeWithCluster } from './support/services';

const NGINX = '/usr/sbin/nginx';
const EXAMPLE = join(__dirname, '..', 'deploy', 'nginx', 'nest-chat.conf');

// .ci/run installs nginx; a laptop without it skips this suite (loudly, once).
if (!existsSync(NGINX)) {
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but ${NGINX} is missing (apt-get install nginx-light)`);
  console.warn(`!!! ${NGINX} not found: SKIPPING the nginx suite !!!`);
}
const describeWithNginx = existsSync(NGINX) ? describeWithCluster : describe.skip;

/** deploy/nginx/nest-chat.conf as shipped, with the test's ports, inside a main config of its own. */
function nginxConfig(dir: string, listen: number, upstreams: readonly number[]): string {
  const example = readFileSync(EXAMPLE, 'utf8');
  const servers = example.match(/^ {4}server 127\.0\.0\.1:\d+ .*;$/gm);
  if (!servers || servers.length !== 2) throw new Error('the example upstream no longer lists two instances');
  const site = example
    .replace(servers[0], upstreams.map((port) => servers[0].replace(/:\d+ /, `:${port} `)).join('\n'))
    .replace(servers[1], '')
    .replace(/listen 8090;/, `listen 127.0.0.1:${listen};`);
  if (site === example) throw new Error('the example config did not change');
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  return [
    'daemon off;',
    'worker_processes 1;',
    'user root;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
    site,
    '}',
  ].join('\n');
}

async function startNginx(dir: string, listen: number, upstreams: readonly number[]): Promise<ChildProcess> {
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, nginxConfig(dir, listen, upstreams));
  const child = spawn(NGINX, ['-c', file, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Listening once a plain request is answered.
  await withTimeout(
    (async () => {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
        const ok = await fetch(`http://127.0.0.1:${listen}/health/live`).then((r) => r.ok, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
    10_000,
    'nginx to listen',
  );
  return child;
}

async function connectedClients(instance: ServerProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
  return Number(/^chat_connected_clients (\d+)/m.exec(text)?.[1] ?? NaN);
}

describeWithNginx('N instances behind nginx (deploy/nginx/nest-chat.conf)', () => {
  let dir: string;
  let cluster: Cluster;
  let instances: ServerProcess[] = [];
  let nginx: ChildProcess;
  let listen: number;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nest-chat-nginx-'));
    cluster = await startCluster(2, { TRUST_PROXY: '127.0.0.1' });
    instances = cluster.nodes;
    listen = await freePort();
    nginx = await startNginx(dir, listen, instances.map((i) => i.port));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    nginx?.kill('SIGQUIT');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('spreads WebSocket clients over both instances (no sticky sessions) and they chat as one room', async () => {
    for (let i = 0; i < 4; i++) {
      const { client } = await ChatClient.join(`ws://127.0.0.1:${listen}/`);
      clients.push(client);
    }
    // Round robin: two on each instance.
    expect(await Promise.all(instances.map(connectedClients))).toEqual([2, 2]);

    const body = `through nginx ${randomBytes(4).toString('hex')}`;
    clients[0].send('message', { room: 'general', message: body, clientMsgId: 'n1' });
    const isIt = (f: Frame) => f.type === 'message' && f.message === body;
    const received = await Promise.all(clients.map((c) => c.next(isIt)));
    const ids = new Set(received.map((f) => f.id));
    expect(ids.size).toBe(1);
    // Exactly once on every client, whichever instance it is on.
    await new Promise((r) => setTimeout(r, 300));
    for (const client of clients) expect(client.frames.filter(isIt)).toHaveLength(1);
  });

  it('serves REST through the same address from either instance', async () => {
    const pages = await Promise.all(
      [0, 1].map(async () => (await (await fetch(`http://127.0.0.1:${listen}/api/messages?room=general&limit=5`)).json()) as { messages: Frame[] }),
    );
    for (const page of pages) expect(page.messages.some((m) => String(m.message).startsWith('through nginx'))).toBe(true);
  });
});

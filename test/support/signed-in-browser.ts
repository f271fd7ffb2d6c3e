import type { Page } from 'playwright-core';
import { ChatTabs, type TestLink } from './browser';
import type { ChatClient } from './chat-client';
import { JWT_ENV, signIn, tokenFor } from './signed-in';
import { startServer, type TestServer } from './test-app';

export interface SignedInBrowser {
  readonly chat: ChatTabs;
  /** The server of the current test (AUTH_MODE=jwt). */
  readonly server: TestServer;
  /** A signed-in `ws` client of user `sub`, past its connect sequence; closed after the test. */
  connect(sub: string, name?: string): Promise<ChatClient>;
  /** A tab of the web client signed in as `sub` (the token in the address's fragment). */
  openAs(sub: string, name?: string, link?: TestLink): Promise<Page>;
  /** Replaces the test's server by one with `env` on top of the jwt-mode environment (before anything connects). */
  restartWith(env: Record<string, string>): Promise<void>;
}

/**
 * For a browser suite of signed-in users: one Chromium for the suite, a fresh jwt-mode server per
 * test, and the tabs and `ws` clients of a test closed after it. Call it inside `describe`: it
 * registers the hooks.
 */
export function signedInBrowser(): SignedInBrowser {
  const chat = new ChatTabs();
  let server: TestServer | undefined;
  let clients: ChatClient[] = [];

  beforeAll(() => chat.launch());
  afterAll(() => chat.close());

  beforeEach(async () => {
    server = await startServer(JWT_ENV);
    clients = [];
  });

  afterEach(async () => {
    await chat.closeTabs();
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  const current = (): TestServer => {
    if (!server) throw new Error('no server outside a test');
    return server;
  };

  return {
    chat,
    get server() {
      return current();
    },
    async connect(sub, name = sub) {
      const { client } = await signIn(current(), sub, name);
      clients.push(client);
      return client;
    },
    async openAs(sub, name = sub, link) {
      return chat.open(`${current().httpUrl}/#token=${await tokenFor(sub, name)}`, { beforeLoad: link?.route });
    },
    async restartWith(env) {
      await current().close();
      server = await startServer({ ...JWT_ENV, ...env });
    },
  };
}

import { DataSource } from 'typeorm';
import { Hub } from '../src/hub/hub';
import { ChatClient, withTimeout } from './support/chat-client';
import { spawnServer, type ServerProcess } from './support/server-process';
import { getJson, startServer, type TestServer } from './support/test-app';

describe('protocol errors (e2e)', () => {
  let server: TestServer;
  let alice: ChatClient;
  let bob: ChatClient;

  beforeEach(async () => {
    server = await startServer({ MAX_PAYLOAD_BYTES: '2048' });
    alice = (await ChatClient.join(server.wsUrl)).client;
    bob = (await ChatClient.join(server.wsUrl)).client;
    await alice.nextOfType('notification');
  });

  afterEach(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  /** The connection survives an error: a following message still goes through. */
  async function expectStillWorks(client: ChatClient): Promise<void> {
    client.send('message', { message: 'still here' });
    await expect(client.nextOfType('message')).resolves.toMatchObject({ message: 'still here' });
  }

  it.each([
    ['{not json', { code: 'BAD_JSON', message: 'Frame starts with "{" but is not valid JSON' }],
    ['{"data":{"message":"x"}}', { code: 'BAD_FRAME', message: 'Frame must be a JSON object with an "event" string' }],
    ['{"event":42}', { code: 'BAD_FRAME', message: 'Frame must be a JSON object with an "event" string' }],
  ])('answers %j with %j and keeps the connection open', async (raw, expected) => {
    alice.sendRaw(raw);
    await expect(alice.nextOfType('error')).resolves.toEqual({ type: 'error', ...expected });
    await expectStillWorks(alice);
  });

  it('rejects binary frames with BAD_FRAME', async () => {
    alice.sendRaw(Buffer.from([0x7b, 0x7d]), true);
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'BAD_FRAME',
      message: 'Binary frames are not supported; send JSON text frames',
    });
    await expectStillWorks(alice);
  });

  it.each(['typing-unknown', '__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'answers UNKNOWN_EVENT for event %j',
    async (event) => {
      alice.send(event, { message: 'x' });
      await expect(alice.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'UNKNOWN_EVENT',
        message: `Unknown event "${event}"`,
        event,
      });
      await expectStillWorks(alice);
    },
  );

  it.each([
    [{}, 'message must be a string of 1 to 4000 characters with at least one that is not whitespace'],
    [{ message: ' \n\t ' }, 'message must be a string of 1 to 4000 characters with at least one that is not whitespace'],
    [{ message: 42 }, 'message must be a string of 1 to 4000 characters with at least one that is not whitespace'],
    [{ message: 'ok', clientMsgId: 'x'.repeat(65) }, 'clientMsgId must be a string of 1 to 64 characters'],
  ])('answers VALIDATION naming the field for message data %j', async (data, message) => {
    alice.send('message', data);
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message,
      event: 'message',
    });
    await bob.expectNoMore('message', 100);
  });

  it.each([
    ['zero-width spaces', '\u200B\u200B'],
    ['Hangul fillers', '\u3164\u115F\u1160\uFFA0'],
    ['bidi controls and a BOM', '\u202E\u2066\uFEFF'],
    ['a variation selector between spaces', ' \uFE0F '],
  ])('answers a message of only %s with VALIDATION and stores and sends nothing', async (_label, message) => {
    alice.send('message', { message, clientMsgId: 'inv-1' });
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'message must have at least one visible character',
      event: 'message',
      clientMsgId: 'inv-1',
    });
    alice.send('dm', { to: 'Guest2', message });
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'message must have at least one visible character',
      event: 'dm',
    });
    alice.sendRaw(message); // a plain-text frame is a message too
    await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'VALIDATION', event: 'message' });
    await bob.expectNoMore('message', 100);
    await bob.expectNoMore('direct', 0);
    await expect(getJson(`${server.httpUrl}/api/messages`)).resolves.toEqual({ status: 200, body: { messages: [], hasMore: false } });
  });

  it('echoes clientMsgId in a VALIDATION error', async () => {
    alice.send('message', { message: '   ', clientMsgId: 'abc-1' });
    await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'VALIDATION', event: 'message', clientMsgId: 'abc-1' });
  });

  it('answers VALIDATION when data is not an object', async () => {
    alice.send('history', 'all of it');
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'data must be an object',
      event: 'history',
    });
  });

  it.each([
    [{ limit: 0 }, 'limit must not be less than 1'],
    [{ limit: 201 }, 'limit must not be greater than 200'],
    [{ before: -5 }, 'before must not be less than 1'],
    [{ after: 1.5 }, 'after must be an integer number'],
  ])('answers VALIDATION for history %j', async (data, message) => {
    alice.send('history', data);
    await expect(alice.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message, event: 'history' });
  });

  it('closes an oversized frame\'s connection with 1009 and leaves everyone else connected', async () => {
    alice.sendRaw('x'.repeat(2049));
    await expect(alice.waitClosed()).resolves.toMatchObject({ code: 1009 });
    await expect(bob.next((f) => f.type === 'notification' && f.event === 'leave')).resolves.toMatchObject({ nickname: 'Guest1' });
    await expectStillWorks(bob);
  });

  it('answers UNAVAILABLE and broadcasts nothing while the store cannot write, then recovers', async () => {
    const db = server.app.get(DataSource);
    await db.query('PRAGMA query_only = 1');

    alice.send('message', { message: 'lost?', clientMsgId: 'u-1' });

    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'UNAVAILABLE',
      message: 'The message store is unavailable; nothing was stored or sent, try again',
      event: 'message',
      clientMsgId: 'u-1',
    });
    await bob.expectNoMore('message', 200);

    await db.query('PRAGMA query_only = 0');
    alice.send('message', { message: 'back', clientMsgId: 'u-2' });
    await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'back', clientMsgId: 'u-2' });
    const stored = await getJson(`${server.httpUrl}/api/messages`);
    expect((stored.body as { messages: Array<{ message: string }> }).messages.map((m) => m.message)).toEqual(['back']);
  });

  it('answers INTERNAL without the error text, stack or payload when a handler fails unexpectedly', async () => {
    jest.spyOn(server.app.get(Hub), 'rename').mockImplementationOnce(() => {
      throw new Error('secret detail at /srv/app.js:12');
    });

    alice.send('nick', { nickname: 'payload-nick' });

    const frame = await alice.nextOfType('error');
    expect(frame).toEqual({ type: 'error', code: 'INTERNAL', message: 'Internal error', event: 'nick' });
    await expectStillWorks(alice);
  });

});

/** `levels` arrays (or objects, as {"a":…}) nested inside each other, built as JSON text. */
function nested(levels: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(levels) + ']'.repeat(levels) : '{"a":'.repeat(levels) + '{}' + '}'.repeat(levels);
}

describe('deeply nested data (e2e)', () => {
  const DEPTH_RULE = 'data must not be nested more than 8 levels deep';
  let server: ServerProcess;
  let alice: ChatClient;
  let bob: ChatClient;
  let sent = 0;

  beforeAll(async () => {
    // The built server in a child process, logging at info, so its log lines can be read.
    server = await spawnServer({ SQLITE_PATH: ':memory:', MAX_PAYLOAD_BYTES: String(1024 * 1024) });
    alice = (await ChatClient.join(server.wsUrl)).client;
    bob = (await ChatClient.join(server.wsUrl)).client;
    await alice.nextOfType('notification');
  });

  afterAll(async () => {
    await Promise.all([alice.close(), bob.close()]);
    server.child.kill('SIGTERM');
    await withTimeout(server.exited, 10000, 'server exit');
  });

  /** Waits until `text` occurs `count` times in the server's output. */
  async function waitForOutput(text: string, count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (server.output().split(text).length - 1 < count) {
      if (Date.now() > deadline) throw new Error(`"${text}" not logged ${count} times within 5000 ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Log lines at error level or above (pino: 50 error, 60 fatal). */
  function errorLogLines(): string[] {
    return server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{') && (JSON.parse(line) as { level: number }).level >= 50);
  }

  it.each([
    ['message', 'clientMsgId', `{"message":"hi","clientMsgId":${nested(50_000)}}`],
    ['message', 'message', `{"message":${nested(50_000, 'object')}}`],
    ['nick', 'nickname', `{"nickname":${nested(50_000)}}`],
    ['history', 'an undeclared field', `{"limit":5,"undeclared":${nested(50_000, 'object')}}`],
    ['join', 'an array of an undeclared field', `{"room":"general","extra":[1,${nested(50_000)}]}`],
    ['dm', 'clientMsgId', `{"to":"Guest2","message":"hi","clientMsgId":${nested(50_000)}}`],
    ['resume', 'rooms', `{"since":0,"rooms":${nested(50_000)}}`],
    ['message', 'clientMsgId, one level too deep,', `{"message":"hi","clientMsgId":${nested(8)}}`],
  ])('answers %s data nested too deep in %s with VALIDATION, logs no error and keeps every connection working', async (event, _field, data) => {
    const frame = `{"event":"${event}","data":${data}}`;
    alice.sendRaw(frame);

    await expect(alice.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'VALIDATION', message: DEPTH_RULE, event });
    const marker = `after ${event} ${++sent}`;
    alice.send('message', { message: marker });
    await expect(bob.next((f) => f.type === 'message' && f.message === marker)).resolves.toMatchObject({ nickname: 'Guest1' });
    bob.send('message', { message: `bob: ${marker}` });
    await expect(alice.next((f) => f.type === 'message' && f.message === `bob: ${marker}`)).resolves.toMatchObject({ nickname: 'Guest2' });
    // The line logged with the error frame has reached us (pipes lag), so an error line would have too.
    await waitForOutput(`"code":"VALIDATION"`, sent);
    expect(errorLogLines()).toEqual([]);
  });

  it('still validates data nested exactly 8 levels deep field by field', async () => {
    alice.sendRaw(`{"event":"message","data":{"message":"hi","clientMsgId":${nested(7)}}}`);
    await expect(alice.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'VALIDATION',
      message: 'clientMsgId must be a string of 1 to 64 characters',
      event: 'message',
    });
    expect(errorLogLines()).toEqual([]);
  });
});

describe('message length limit (e2e)', () => {
  it('answers VALIDATION for 4001 characters on a server whose frame limit allows them', async () => {
    const server = await startServer();
    const client = (await ChatClient.join(server.wsUrl)).client;
    try {
      client.send('message', { message: 'x'.repeat(4001) });
      await expect(client.nextOfType('error')).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message: 'message must be a string of 1 to 4000 characters with at least one that is not whitespace',
        event: 'message',
      });
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('REST errors (e2e)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(() => server.close());

  it.each([
    ['limit=0', 'limit must not be less than 1', ['limit']],
    ['limit=201', 'limit must not be greater than 200', ['limit']],
    ['limit=abc', 'limit must be an integer number', ['limit']],
    ['before=0', 'before must not be less than 1', ['before']],
    ['after=1.5', 'after must be an integer number', ['after']],
    ['room=' + 'r'.repeat(65), 'room must be shorter than or equal to 64 characters', ['room']],
    ['room=', 'room must be longer than or equal to 1 characters', ['room']],
    ['sort=desc', 'property sort should not exist', ['sort']],
    ['limit=1&limit=2', 'limit must be an integer number', ['limit']],
  ])('GET /api/messages?%s is a 400 naming the parameter', async (query, message, parameters) => {
    const res = await getJson(`${server.httpUrl}/api/messages?${query}`);
    expect(res).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message, parameters } });
  });

  it('serves Swagger UI and the OpenAPI document', async () => {
    const ui = await fetch(`${server.httpUrl}/api/docs`, { signal: AbortSignal.timeout(5000) });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const doc = await getJson(`${server.httpUrl}/api/docs-json`);
    expect(Object.keys((doc.body as { paths: object }).paths)).toEqual(
      expect.arrayContaining(['/api/messages', '/api/users', '/health']),
    );
  });
});

describe('health (e2e)', () => {
  it('is 200 while the database answers and 503 once it does not', async () => {
    const server = await startServer();
    try {
      await expect(getJson(`${server.httpUrl}/health`)).resolves.toMatchObject({ status: 200, body: { status: 'ok' } });
      await expect(getJson(`${server.httpUrl}/health/ready`)).resolves.toMatchObject({ status: 200 });

      await server.app.get(DataSource).destroy();

      await expect(getJson(`${server.httpUrl}/health`)).resolves.toMatchObject({
        status: 503,
        body: { status: 'error', error: { database: { status: 'down' } } },
      });
      await expect(getJson(`${server.httpUrl}/health/live`)).resolves.toMatchObject({ status: 200 });
      await expect(getJson(`${server.httpUrl}/api/messages`)).resolves.toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'The message store is unavailable' },
      });
    } finally {
      await server.close();
    }
  });
});

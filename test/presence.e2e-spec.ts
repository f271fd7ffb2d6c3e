import { MAX_DIFF_NAMES } from '../src/protocol/frames';
import { ChatClient, type Frame } from './support/chat-client';
import { getJson, startServer, type TestServer } from './support/test-app';

/** Rooms of more than THRESHOLD members get presence_diff frames, at most one per INTERVAL_MS. */
const THRESHOLD = 3;
const INTERVAL_MS = 600;

describe('presence in large rooms (e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];

  beforeAll(() => {
    // startServer passes on only the variables it knows; these reach the app's config the same way.
    process.env.PRESENCE_BATCH_THRESHOLD = String(THRESHOLD);
    process.env.PRESENCE_BATCH_MS = String(INTERVAL_MS);
  });

  afterAll(() => {
    delete process.env.PRESENCE_BATCH_THRESHOLD;
    delete process.env.PRESENCE_BATCH_MS;
  });

  beforeEach(async () => {
    server = await startServer();
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  /** Connects (welcome, history, its own join notification) and takes `nickname`. */
  async function connectAs(nickname: string): Promise<{ client: ChatClient; welcome: Frame; join: Frame }> {
    const { client, welcome, join } = await ChatClient.join(server.wsUrl);
    clients.push(client);
    client.send('nick', { nickname });
    await client.next((f) => f.type === 'nick_update' && f.nickname === nickname);
    return { client, welcome, join };
  }

  const joinsAndLeaves = (client: ChatClient): Frame[] =>
    client.frames.filter((f) => f.type === 'presence_diff' || f.type === 'notification');
  const diffsOf = (client: ChatClient): Frame[] => client.frames.filter((f) => f.type === 'presence_diff');

  it(`keeps today's join and leave notifications in a room of up to ${THRESHOLD} members`, async () => {
    const { client: a } = await connectAs('a');
    const { client: b } = await connectAs('b');
    const { client: c } = await connectAs('c');

    await a.next((f) => f.type === 'notification' && f.event === 'join' && f.nickname === 'Guest3');
    await c.close();
    await expect(a.next((f) => f.type === 'notification' && f.event === 'leave')).resolves.toEqual({
      type: 'notification',
      event: 'leave',
      room: 'general',
      nickname: 'c',
      message: 'c left',
    });
    await a.expectNoMore('presence_diff', INTERVAL_MS + 200);
    expect(diffsOf(b)).toEqual([]);
  });

  it('coalesces the joins and leaves of a larger room into one presence_diff per interval; each joiner gets its own join at once', async () => {
    const { client: a } = await connectAs('a');
    await connectAs('b');
    await connectAs('c');
    await a.collect((f) => f.type === 'notification' && f.event === 'join', 2);
    const before = joinsAndLeaves(a).length;

    const d = await connectAs('d'); // 4 members: over the threshold
    const e = await connectAs('e');

    expect(d.join).toEqual({ type: 'notification', event: 'join', room: 'general', nickname: 'Guest4', message: 'Guest4 joined' });
    expect(e.join).toMatchObject({ type: 'notification', event: 'join', nickname: 'Guest5' });
    const [diff] = await a.collect('presence_diff', 1, INTERVAL_MS + 2000);
    // Renamed right after connecting, within the interval: the diff names them as renamed.
    expect(diff).toEqual({ type: 'presence_diff', room: 'general', joins: ['d', 'e'], leaves: [], joinsTotal: 2, leavesTotal: 0, usersTotal: 5 });
    expect(joinsAndLeaves(a).length).toBe(before + 1);
    await a.expectNoMore('presence_diff', INTERVAL_MS + 200);

    await d.client.close();
    await e.client.close();
    const diffs = await a.collect('presence_diff', 2, INTERVAL_MS + 2000);
    expect(diffs[1]).toEqual({ type: 'presence_diff', room: 'general', joins: [], leaves: ['d', 'e'], joinsTotal: 0, leavesTotal: 2, usersTotal: 3 });
    expect(a.frames.filter((f) => f.type === 'notification' && f.event === 'leave')).toEqual([]);
  });

  it('announces nothing of a member that joined and left within one interval', async () => {
    const { client: a } = await connectAs('a');
    await connectAs('b');
    await connectAs('c');
    await connectAs('d');
    await a.collect('presence_diff', 1, INTERVAL_MS + 2000);

    const brief = await connectAs('brief');
    await brief.client.close();
    const { client: f } = await connectAs('f');

    const diffs = await a.collect('presence_diff', 2, INTERVAL_MS + 2000);
    expect(diffs[1]).toEqual({ type: 'presence_diff', room: 'general', joins: ['f'], leaves: [], joinsTotal: 1, leavesTotal: 0, usersTotal: 5 });
    await a.expectNoMore('presence_diff', INTERVAL_MS + 200);
    expect(f.socket.readyState).toBe(f.socket.OPEN);
  });

  it('caps nothing below 1000 in welcome, counts everyone in usersTotal, and pages `who` with offset and limit', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await connectAs(name);

    const { client: e, welcome } = await connectAs('e');

    expect(welcome).toMatchObject({ users: ['a', 'b', 'c', 'd', 'Guest5'], usersTotal: 5 });
    e.send('who', { room: 'general', offset: 1, limit: 2 });
    await expect(e.nextOfType('presence')).resolves.toEqual({ type: 'presence', room: 'general', users: ['b', 'c'], usersTotal: 5, offset: 1 });
    await expect(getJson(`${server.httpUrl}/api/rooms/general/users?offset=3&limit=5`)).resolves.toEqual({
      status: 200,
      body: { room: 'general', users: [expect.objectContaining({ nickname: 'd' }), expect.objectContaining({ nickname: 'e' })], total: 5 },
    });
  });
});

describe(`presence_diff over ${MAX_DIFF_NAMES} changes in one interval (e2e)`, () => {
  // Long enough for every change below to fall in one interval, even on a busy machine.
  const LONG_INTERVAL_MS = 2500;
  const JOINERS = MAX_DIFF_NAMES + 5;
  let server: TestServer;
  let clients: ChatClient[];

  beforeAll(async () => {
    process.env.PRESENCE_BATCH_THRESHOLD = String(THRESHOLD);
    process.env.PRESENCE_BATCH_MS = String(LONG_INTERVAL_MS);
    server = await startServer();
    clients = [];
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    delete process.env.PRESENCE_BATCH_THRESHOLD;
    delete process.env.PRESENCE_BATCH_MS;
  });

  async function connect(count: number): Promise<ChatClient[]> {
    const joined = await Promise.all(Array.from({ length: count }, () => ChatClient.join(server.wsUrl)));
    const connected = joined.map(({ client }) => client);
    clients.push(...connected);
    return connected;
  }

  /** One at a time, each confirmed by its reply, so the server records them in this order. */
  async function joinBig(client: ChatClient): Promise<void> {
    client.send('join', { room: 'big' });
    await client.next((f) => f.type === 'presence' && f.room === 'big');
  }

  async function leaveBig(client: ChatClient): Promise<void> {
    client.send('leave', { room: 'big' });
    client.send('who', { room: 'general', limit: 1 }); // answered after the leave: it confirms it
    await client.next((f) => f.type === 'presence' && f.room === 'general');
  }

  it(`names the earliest ${MAX_DIFF_NAMES} joins, then the earliest ${MAX_DIFF_NAMES} leaves, and counts them all`, async () => {
    const [observer, ...fillers] = await connect(THRESHOLD);
    const joiners = await connect(JOINERS);
    for (const client of [observer, ...fillers]) await joinBig(client); // up to the threshold: notifications
    const names = joiners.map((c) => c.nickname);

    for (const client of joiners) await joinBig(client);

    const bigDiffs = (count: number) => observer.collect((f) => f.type === 'presence_diff' && f.room === 'big', count, LONG_INTERVAL_MS + 5000);
    const [joinDiff] = await bigDiffs(1);
    expect(joinDiff).toEqual({
      type: 'presence_diff',
      room: 'big',
      joins: names.slice(0, MAX_DIFF_NAMES),
      leaves: [],
      joinsTotal: JOINERS,
      leavesTotal: 0,
      usersTotal: THRESHOLD + JOINERS,
    });

    for (const client of joiners) await leaveBig(client);

    const [, leaveDiff, ...more] = await bigDiffs(2);
    expect(leaveDiff).toEqual({
      type: 'presence_diff',
      room: 'big',
      joins: [],
      leaves: names.slice(0, MAX_DIFF_NAMES),
      joinsTotal: 0,
      leavesTotal: JOINERS,
      usersTotal: THRESHOLD,
    });
    expect(more).toEqual([]);
    // The lists were partial: a client re-pages with `who`, which lists the room exactly.
    observer.send('who', { room: 'big' });
    await expect(observer.next((f) => f.type === 'presence' && f.room === 'big')).resolves.toEqual({
      type: 'presence',
      room: 'big',
      users: [observer, ...fillers].map((c) => c.nickname),
      usersTotal: THRESHOLD,
      offset: 0,
    });
  });
});

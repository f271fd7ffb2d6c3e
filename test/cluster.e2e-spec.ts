import { ChatClient, type Frame } from './support/chat-client';
import { startCluster, stopNode, type Cluster } from './support/cluster';
import { describeWithCluster } from './support/services';
import { JWT_ENV, tokenFor } from './support/signed-in';

const QUIET_MS = 400;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithCluster('cluster: two nodes through Redis are one chat (e2e)', () => {
  let cluster: Cluster;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  async function connect(node: number, query = ''): Promise<ChatClient> {
    const client = await ChatClient.connect(`${cluster.nodes[node].url}${query}`);
    clients.push(client);
    await client.nextOfType('welcome');
    await client.next((f) => f.type === 'notification' || f.type === 'resumed');
    return client;
  }

  /** Every frame of `type` the client got, after a pause long enough for a duplicate to show. */
  async function settled(client: ChatClient, matches: (f: Frame) => boolean): Promise<Frame[]> {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    return client.frames.filter(matches);
  }

  it('delivers a room message to both nodes exactly once, and its edit and deletion', async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    alice.send('message', { message: 'across', room: 'general' });
    const seen = await bob.next((f) => f.type === 'message' && f.message === 'across');
    const own = await alice.next((f) => f.type === 'message' && f.message === 'across');
    expect(own.id).toBe(seen.id);
    const id = seen.id as number;

    bob.send('message', { message: 'back', room: 'general' });
    await alice.next((f) => f.type === 'message' && f.message === 'back');

    alice.send('edit', { id, message: 'across, edited' });
    await expect(bob.nextOfType('message_edited')).resolves.toMatchObject({ id, message: 'across, edited' });
    alice.send('delete', { id });
    await expect(bob.nextOfType('message_deleted')).resolves.toEqual({ type: 'message_deleted', id, room: 'general' });

    for (const client of [alice, bob]) {
      expect(await settled(client, (f) => f.type === 'message' && f.id === id)).toHaveLength(1);
      expect(await settled(client, (f) => f.type === 'message_edited')).toHaveLength(1);
      expect(await settled(client, (f) => f.type === 'message_deleted')).toHaveLength(1);
    }
  });

  it('relays typing, joins, leaves and nickname changes to the other node once, never to their author', async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    const carol = await connect(1);

    alice.send('typing', { room: 'general' });
    await expect(bob.nextOfType('typing')).resolves.toEqual({ type: 'typing', room: 'general', nickname: alice.nickname });

    bob.send('join', { room: 'side' });
    await bob.next((f) => f.type === 'notification' && f.event === 'join' && f.room === 'side');
    alice.send('join', { room: 'side' });
    await expect(bob.next((f) => f.type === 'notification' && f.room === 'side')).resolves.toMatchObject({ event: 'join', nickname: alice.nickname });

    alice.send('leave', { room: 'side' });
    await expect(bob.next((f) => f.type === 'notification' && f.room === 'side')).resolves.toMatchObject({ event: 'leave', nickname: alice.nickname });

    const before = alice.nickname;
    alice.send('nick', { nickname: `renamed${Date.now() % 100000}` });
    await expect(carol.nextOfType('nick_update')).resolves.toMatchObject({ previous: before });

    expect(await settled(alice, (f) => f.type === 'typing')).toHaveLength(0);
    expect(await settled(bob, (f) => f.type === 'typing')).toHaveLength(1);
    expect(await settled(carol, (f) => f.type === 'nick_update')).toHaveLength(1);
    expect(await settled(bob, (f) => f.type === 'notification' && f.room === 'side')).toHaveLength(3);
  });

  it('lists who is online on every node: welcome, who, /api/users and room counts', async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    bob.send('join', { room: 'lists' });
    await bob.next((f) => f.type === 'notification' && f.room === 'lists');
    await pause(100); // the state events of bob's node reach node 0 (the ClusterBus)

    const carol = await connect(0);
    const welcome = carol.frames.find((f) => f.type === 'welcome')!;
    expect(welcome.users).toEqual(expect.arrayContaining([alice.nickname, bob.nickname, carol.nickname]));
    expect(welcome.usersTotal).toBe(3);

    alice.send('join', { room: 'lists' });
    const presence = await alice.next((f) => f.type === 'presence' && f.room === 'lists');
    expect(presence.users).toEqual(expect.arrayContaining([bob.nickname, alice.nickname]));
    expect(presence.usersTotal).toBe(2);

    for (const node of cluster.nodes) {
      const users = (await (await fetch(`${node.http}/api/users`, { signal: AbortSignal.timeout(5000) })).json()) as { total: number };
      expect(users.total).toBe(3);
      const rooms = (await (await fetch(`${node.http}/api/rooms`, { signal: AbortSignal.timeout(5000) })).json()) as { rooms: Array<{ name: string; members: number }> };
      expect(rooms.rooms.find((r) => r.name === 'lists')?.members).toBe(2);
      expect(rooms.rooms.find((r) => r.name === 'general')?.members).toBe(3);
    }
  });

  it('never gives two guests the same name, even when both nodes name guests at once', async () => {
    const guests = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(i % 2)));
    const names = guests.map((client) => client.nickname);
    expect(new Set(names).size).toBe(names.length);
  });

  it('lets one of two renames to one name at the same moment on two nodes through, the other NICK_TAKEN', async () => {
    const clients = [await connect(0), await connect(1)];
    const names = clients.map((client) => client.nickname);
    for (let round = 0; round < 5; round++) {
      const name = `same${round}x${Date.now() % 10000}`;
      for (const client of clients) client.send('nick', { nickname: name });
      const frames = await Promise.all(clients.map((client, i) => client.next((f) => f.type === 'error' || (f.type === 'nick_update' && f.previous === names[i]))));
      const outcomes = frames.map((f) => f.type);
      expect([...outcomes].sort()).toEqual(['error', 'nick_update']);
      expect(frames[outcomes.indexOf('error')]).toEqual({ type: 'error', code: 'NICK_TAKEN', message: `Nickname "${name}" is already taken`, event: 'nick' });
      names[outcomes.indexOf('nick_update')] = name;
    }
  });

  it('refuses a nickname another node has with NICK_TAKEN, and sends a DM to a nickname on the other node', async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    const name = `dana${Date.now() % 100000}`;
    alice.send('nick', { nickname: name });
    await bob.next((f) => f.type === 'nick_update' && f.nickname === name);

    bob.send('nick', { nickname: name.toUpperCase() });
    await expect(bob.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'NICK_TAKEN', message: `Nickname "${name.toUpperCase()}" is already taken`, event: 'nick' });

    bob.send('dm', { to: name, message: 'psst', clientMsgId: 'dm-1' });
    await expect(bob.next((f) => f.type === 'ack' && f.clientMsgId === 'dm-1')).resolves.toMatchObject({ to: name });
    const got = await alice.next((f) => f.type === 'direct');
    expect(got).toMatchObject({ from: bob.nickname, to: name, message: 'psst' });
    await bob.next((f) => f.type === 'direct' && f.message === 'psst');
    expect(await settled(alice, (f) => f.type === 'direct')).toHaveLength(1);
    expect(await settled(bob, (f) => f.type === 'direct')).toHaveLength(1);

    bob.send('dm', { to: 'nobody-anywhere', message: 'hello?' });
    await expect(bob.nextOfType('error')).resolves.toMatchObject({ code: 'NO_SUCH_USER', event: 'dm' });
  });
});

describeWithCluster('cluster: node loss, resume elsewhere, order (e2e)', () => {
  let cluster: Cluster;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await cluster?.stop();
  });

  async function connect(node: number, query = ''): Promise<ChatClient> {
    const client = await ChatClient.connect(`${cluster.nodes[node].url}${query}`);
    clients.push(client);
    await client.nextOfType('welcome');
    await client.next((f) => f.type === 'notification' || f.type === 'resumed');
    return client;
  }

  it('keeps one order on every client, ids ascending, under concurrent sends on all nodes', async () => {
    const readers = [await connect(0), await connect(1), await connect(2)];
    const writers = [await connect(0), await connect(1), await connect(2)];
    const PER_WRITER = 700;
    for (let i = 0; i < PER_WRITER; i++) writers.forEach((w, n) => w.send('message', { message: `o${n}-${i}`, room: 'general' }));
    const total = PER_WRITER * writers.length;
    const orders = await Promise.all(
      readers.map(async (r) => (await r.collect((f) => f.type === 'message' && String(f.message).startsWith('o'), total, 60000)).map((f) => f.id as number)),
    );
    expect(orders[0]).toHaveLength(total);
    expect(new Set(orders[0]).size).toBe(total);
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    // And that order is the ids': the store's order lock is held until the publishes are in Redis.
    const inversions = orders[0].filter((id, i) => i > 0 && id < orders[0][i - 1]).length;
    expect(inversions).toBe(0);
  }, 90000);

  it('replays what was missed to a client that resumes on another node, nothing twice', async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    alice.send('message', { message: 'before', room: 'general' });
    const before = await bob.next((f) => f.type === 'message' && f.message === 'before');
    await bob.close();
    for (const text of ['missed-1', 'missed-2', 'missed-3']) alice.send('message', { message: text, room: 'general' });
    await alice.next((f) => f.type === 'message' && f.message === 'missed-3');

    const back = await ChatClient.connect(`${cluster.nodes[2].url}?since=${before.id as number}&rooms=general`);
    clients.push(back);
    await back.nextOfType('resumed');
    expect(back.frames.filter((f) => f.type === 'message').map((f) => f.message)).toEqual(['missed-1', 'missed-2', 'missed-3']);
    alice.send('message', { message: 'after', room: 'general' });
    await back.next((f) => f.type === 'message' && f.message === 'after');
    await pause(QUIET_MS);
    expect(back.frames.filter((f) => f.type === 'message').map((f) => f.message)).toEqual(['missed-1', 'missed-2', 'missed-3', 'after']);
  });

  it("announces the leave of a SIGKILLed node's clients once, within INSTANCE_TTL_MS and a check", async () => {
    const alice = await connect(0);
    const bob = await connect(1);
    const doomed = await connect(2);
    const name = doomed.nickname;
    const killedAt = Date.now();
    cluster.nodes[2].child.kill('SIGKILL');
    for (const client of [alice, bob]) {
      await client.next((f) => f.type === 'notification' && f.event === 'leave' && f.nickname === name, 5000);
    }
    expect(Date.now() - killedAt).toBeLessThan(2000 + 1500);
    await pause(1500); // more checks: nobody announces it again
    for (const client of [alice, bob]) {
      expect(client.frames.filter((f) => f.type === 'notification' && f.event === 'leave' && f.nickname === name)).toHaveLength(1);
    }
    const users = (await (await fetch(`${cluster.nodes[0].http}/api/users`, { signal: AbortSignal.timeout(5000) })).json()) as { users: Array<{ nickname: string }> };
    expect(users.users.map((u) => u.nickname)).not.toContain(name);
  });

  it("announces the leaves of a node that shuts down cleanly at once, without waiting for its heartbeat to expire", async () => {
    const alice = await connect(0);
    // Its heartbeat key lives a minute: a leave within seconds can only come from its goodbye.
    const leaving = await cluster.add({ INSTANCE_TTL_MS: '60000' });
    const client = await ChatClient.connect(leaving.url);
    clients.push(client);
    await client.nextOfType('welcome');
    const name = client.nickname;
    await alice.next((f) => f.type === 'notification' && f.event === 'join' && f.nickname === name);
    await stopNode(leaving);
    await expect(client.waitClosed()).resolves.toMatchObject({ code: 1001 });
    await alice.next((f) => f.type === 'notification' && f.event === 'leave' && f.nickname === name, 5000);
    await pause(QUIET_MS);
    expect(alice.frames.filter((f) => f.type === 'notification' && f.event === 'leave' && f.nickname === name)).toHaveLength(1);
  });
});

describeWithCluster('cluster: a signed-in user on two nodes is one user (e2e)', () => {
  let cluster: Cluster;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, JWT_ENV);
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await cluster?.stop();
  });

  async function signIn(node: number, sub: string): Promise<ChatClient> {
    const token = await tokenFor(sub);
    const client = await ChatClient.connect(cluster.nodes[node].url, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    const welcome = await client.nextOfType('welcome');
    for (const room of welcome.rooms as string[]) await client.next((f) => f.type === 'notification' && f.event === 'join' && f.room === room && f.userId === sub);
    return client;
  }

  const about = (sub: string, event: 'join' | 'leave') => (f: Frame) => f.type === 'notification' && f.event === event && f.userId === sub;

  it('announces its join and leave once, lists it once, and keeps its own typing from its other device', async () => {
    const zed = await signIn(1, 'zed');
    const annHere = await signIn(0, 'ann');
    await zed.next(about('ann', 'join'));
    const annThere = await signIn(1, 'ann');
    await pause(QUIET_MS);
    expect(zed.frames.filter(about('ann', 'join'))).toHaveLength(1);

    const headers = { authorization: `Bearer ${await tokenFor('zed')}` };
    const users = (await (await fetch(`${cluster.nodes[0].http}/api/users`, { headers, signal: AbortSignal.timeout(5000) })).json()) as { total: number; users: Array<{ userId: string }> };
    expect(users.total).toBe(2);
    expect(users.users.map((u) => u.userId).sort()).toEqual(['ann', 'zed']);
    zed.send('who', { room: 'general' });
    await expect(zed.nextOfType('presence')).resolves.toMatchObject({ usersTotal: 2 });

    annHere.send('typing', { room: 'general' });
    await expect(zed.nextOfType('typing')).resolves.toMatchObject({ userId: 'ann' });
    await pause(QUIET_MS);
    expect(annThere.frames.filter((f) => f.type === 'typing')).toHaveLength(0);

    await annHere.close();
    await pause(QUIET_MS);
    expect(zed.frames.filter(about('ann', 'leave'))).toHaveLength(0);
    await annThere.close();
    await zed.next(about('ann', 'leave'));
    await pause(QUIET_MS);
    expect(zed.frames.filter(about('ann', 'leave'))).toHaveLength(1);
  });

  it("joins and leaves a room on the user's every node when one device does, announced once", async () => {
    const zed = await signIn(1, 'zed2');
    const annHere = await signIn(0, 'ann2');
    const annThere = await signIn(1, 'ann2');
    zed.send('join', { room: 'side2' });
    await zed.next((f) => f.type === 'notification' && f.room === 'side2');
    annHere.send('join', { room: 'side2' });
    await zed.next((f) => about('ann2', 'join')(f) && f.room === 'side2');
    await pause(100);
    await annThere.next((f) => about('ann2', 'join')(f) && f.room === 'side2'); // its other device joined too
    zed.send('message', { message: 'ann2 is here', room: 'side2' });
    await annThere.next((f) => f.type === 'message' && f.message === 'ann2 is here');
    expect(zed.frames.filter((f) => about('ann2', 'join')(f) && f.room === 'side2')).toHaveLength(1);

    annHere.send('leave', { room: 'side2' });
    await zed.next((f) => about('ann2', 'leave')(f) && f.room === 'side2');
    await pause(QUIET_MS);
    expect(zed.frames.filter((f) => about('ann2', 'leave')(f) && f.room === 'side2')).toHaveLength(1);
    zed.send('message', { message: 'ann2 is gone', room: 'side2' });
    await zed.next((f) => f.type === 'message' && f.message === 'ann2 is gone');
    await pause(QUIET_MS);
    expect(annThere.frames.some((f) => f.type === 'message' && f.message === 'ann2 is gone')).toBe(false);
  });

  it('keeps a private room private on every node, invites a user on another node live, and shuts out a removed member there at once', async () => {
    const olga = await signIn(0, 'olga');
    const bob = await signIn(1, 'bob');
    olga.send('create_room', { room: 'plans', visibility: 'private' });
    await olga.next((f) => about('olga', 'join')(f) && f.room === 'plans');
    await pause(100);

    bob.send('join', { room: 'plans' });
    await expect(bob.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'FORBIDDEN', message: 'Room "plans" is private: only its members can use it', event: 'join' });

    olga.send('invite', { room: 'plans', user: 'bob' });
    await expect(bob.nextOfType('invited')).resolves.toEqual({ type: 'invited', room: 'plans', by: 'olga', byId: 'olga' });
    await bob.next((f) => about('bob', 'join')(f) && f.room === 'plans');
    await olga.next((f) => about('bob', 'join')(f) && f.room === 'plans');
    olga.send('message', { message: 'for members', room: 'plans' });
    await bob.next((f) => f.type === 'message' && f.message === 'for members');

    olga.send('remove', { room: 'plans', user: 'bob' });
    await olga.next((f) => about('bob', 'leave')(f) && f.room === 'plans');
    await pause(100);
    olga.send('message', { message: 'members only', room: 'plans' });
    await olga.next((f) => f.type === 'message' && f.message === 'members only');
    await pause(QUIET_MS);
    expect(bob.frames.some((f) => f.type === 'message' && f.message === 'members only')).toBe(false);
    expect(olga.frames.filter((f) => about('bob', 'leave')(f) && f.room === 'plans')).toHaveLength(1);
  });

  it('delivers a direct message to every connection of both users on every node, once each, and not again at the next connect', async () => {
    const kim = await signIn(0, 'kim');
    const leeHere = await signIn(0, 'lee');
    const leeThere = await signIn(1, 'lee');
    await pause(100);
    kim.send('dm', { to: 'lee', message: 'hi lee', clientMsgId: 'k-1' });
    await kim.next((f) => f.type === 'ack' && f.clientMsgId === 'k-1');
    for (const client of [kim, leeHere, leeThere]) await client.next((f) => f.type === 'direct' && f.message === 'hi lee');
    await pause(QUIET_MS);
    for (const client of [kim, leeHere, leeThere]) expect(client.frames.filter((f) => f.type === 'direct')).toHaveLength(1);

    await leeHere.close();
    await pause(100);
    kim.send('dm', { to: 'lee', message: 'lee is on the other node only', clientMsgId: 'k-2' });
    await leeThere.next((f) => f.type === 'direct' && f.message === 'lee is on the other node only');
    await leeThere.close();
    const leeAgain = await signIn(1, 'lee');
    await pause(QUIET_MS);
    expect(leeAgain.frames.filter((f) => f.type === 'direct')).toHaveLength(0);
  });
});

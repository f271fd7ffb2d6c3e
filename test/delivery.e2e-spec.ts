import { DataSource } from 'typeorm';
import { ChatClient, type Frame } from './support/chat-client';
import { slowNextRead, startServer, type TestServer } from './support/test-app';

describe('delivery guarantees (e2e)', () => {
  let server: TestServer;
  const open: ChatClient[] = [];
  const join = async (url = server.wsUrl) => {
    const { client } = await ChatClient.join(url);
    open.push(client);
    return client;
  };
  const connect = async (url: string) => {
    const client = await ChatClient.connect(url);
    open.push(client);
    return client;
  };
  const rows = (sql: string, ...params: unknown[]) => server.app.get(DataSource).query<Array<Record<string, unknown>>>(sql, params);

  beforeEach(async () => {
    server = await startServer({ RESUME_MAX: '5' });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await server.close();
  });

  describe('acknowledged sends', () => {
    it('acks the sender only, after the row is committed', async () => {
      const alice = await join();
      const bob = await join();
      let storedWhenAcked: unknown[] | undefined;
      alice.socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type === 'ack') {
          // better-sqlite3 is synchronous: this reads exactly what was committed when the ack left
          storedWhenAcked = (server.app.get(DataSource).driver as unknown as { databaseConnection: import('better-sqlite3').Database })
            .databaseConnection.prepare('SELECT id FROM messages WHERE client_msg_id = ?')
            .all('a-1');
        }
      });

      alice.send('message', { message: 'hello', clientMsgId: 'a-1' });

      const ack = await alice.nextOfType('ack');
      expect(ack).toEqual({ type: 'ack', clientMsgId: 'a-1', id: expect.any(Number), room: 'general' });
      expect(storedWhenAcked).toEqual([{ id: ack.id }]);
      await expect(bob.nextOfType('message')).resolves.toMatchObject({ id: ack.id, clientMsgId: 'a-1' });
      await bob.expectNoMore('ack', 200);
    });

    it('sends no ack for a message without clientMsgId', async () => {
      const alice = await join();
      alice.send('message', { message: 'fire and forget' });
      await alice.nextOfType('message');
      await alice.expectNoMore('ack', 200);
    });

    it('acks a direct message with the recipient instead of a room', async () => {
      const alice = await join();
      const bob = await join();
      alice.send('dm', { to: bob.nickname, message: 'psst', clientMsgId: 'd-1' });
      const direct = await bob.nextOfType('direct');
      await expect(alice.nextOfType('ack')).resolves.toEqual({ type: 'ack', clientMsgId: 'd-1', id: direct.id, to: bob.nickname });
    });

    it('acks nothing and broadcasts nothing when the store cannot write', async () => {
      const alice = await join();
      const bob = await join();
      await server.app.get(DataSource).query('PRAGMA query_only = 1');
      alice.send('message', { message: 'doomed', clientMsgId: 'u-1' });
      await expect(alice.nextOfType('error')).resolves.toMatchObject({ code: 'UNAVAILABLE', clientMsgId: 'u-1' });
      await alice.expectNoMore('ack', 200);
      await bob.expectNoMore('message', 0);
      await server.app.get(DataSource).query('PRAGMA query_only = 0');
      alice.send('message', { message: 'retried', clientMsgId: 'u-1' });
      await expect(alice.nextOfType('ack')).resolves.toMatchObject({ clientMsgId: 'u-1' });
      await expect(bob.nextOfType('message')).resolves.toMatchObject({ message: 'retried' });
    });
  });

  describe('idempotent resends', () => {
    it('stores and broadcasts a resent clientMsgId once and acks it with the same id, across a reconnect', async () => {
      const first = await join();
      const bob = await join();
      first.send('message', { message: 'only once', clientMsgId: 'dup-1' });
      const ack = await first.nextOfType('ack');
      await bob.nextOfType('message');
      await first.close();

      const again = await join(); // a new connection, a new Guest name
      again.send('message', { message: 'only once', clientMsgId: 'dup-1' });

      await expect(again.nextOfType('ack')).resolves.toEqual(ack);
      await bob.expectNoMore('message', 300);
      await expect(rows('SELECT COUNT(*) AS n FROM messages WHERE client_msg_id = ?', 'dup-1')).resolves.toEqual([{ n: 1 }]);
    });

    it('collapses duplicates sent in one burst', async () => {
      const alice = await join();
      const bob = await join();
      for (let i = 0; i < 3; i++) alice.send('message', { message: 'burst', clientMsgId: 'burst-1' });
      const acks = await alice.collect('ack', 3);
      expect(new Set(acks.map((a) => a.id)).size).toBe(1);
      await bob.nextOfType('message');
      await bob.expectNoMore('message', 300);
    });

    it('keeps the same clientMsgId in different rooms apart', async () => {
      const alice = await join();
      alice.send('join', { room: 'eng' });
      await alice.next((f) => f.type === 'notification' && f.room === 'eng');
      alice.send('message', { message: 'g', clientMsgId: 'same' });
      alice.send('message', { room: 'eng', message: 'e', clientMsgId: 'same' });
      const acks = await alice.collect('ack', 2);
      expect(acks.map((a) => a.room)).toEqual(['general', 'eng']);
      expect(acks[0].id).not.toBe(acks[1].id);
    });

    it('does not deliver a resent direct message twice', async () => {
      const alice = await join();
      const bob = await join();
      alice.send('dm', { to: bob.nickname, message: 'once', clientMsgId: 'dm-dup' });
      alice.send('dm', { to: bob.nickname, message: 'once', clientMsgId: 'dm-dup' });
      const acks = await alice.collect('ack', 2);
      expect(acks[0]).toEqual(acks[1]);
      await bob.nextOfType('direct');
      await bob.expectNoMore('direct', 300);
    });
  });

  describe('resume', () => {
    async function seed(): Promise<number[]> {
      const writer = await join();
      writer.send('join', { room: 'eng' });
      await writer.next((f) => f.type === 'notification' && f.room === 'eng');
      for (let i = 1; i <= 8; i++) {
        writer.send('message', { room: i % 2 ? 'general' : 'eng', message: `s${i}`, clientMsgId: `s${i}` });
      }
      return (await writer.collect('ack', 8)).map((a) => a.id as number);
    }

    it('replays every message of the rooms after `since` in id order, then resumed', async () => {
      const ids = await seed();
      const client = await connect(`${server.wsUrl}?since=${ids[2]}&rooms=general,eng`);

      await expect(client.next()).resolves.toMatchObject({ type: 'welcome', rooms: ['general', 'eng'] });
      const replayed = [];
      for (let i = 3; i < 8; i++) replayed.push(await client.next());
      expect(replayed.map((f) => [f.type, f.id, f.message])).toEqual(ids.slice(3).map((id, i) => ['message', id, `s${i + 4}`]));
      await expect(client.next()).resolves.toEqual({ type: 'resumed', lastId: ids[7] });
      const joins = [await client.next(), await client.next()];
      expect(joins.map((f) => [f.type, f.event, f.room])).toEqual([
        ['notification', 'join', 'general'],
        ['notification', 'join', 'eng'],
      ]);
      expect(client.frames.some((f) => f.type === 'history')).toBe(false);
    });

    it('announces a gap before the newest RESUME_MAX messages when more are missing', async () => {
      const writer = await join();
      for (let i = 1; i <= 12; i++) writer.send('message', { message: `g${i}`, clientMsgId: `g${i}` });
      const ids = (await writer.collect('ack', 12)).map((a) => a.id as number);

      const client = await connect(`${server.wsUrl}?since=${ids[0]}`);

      await client.nextOfType('welcome');
      await expect(client.next()).resolves.toEqual({ type: 'gap', room: 'general', afterId: ids[0], beforeId: ids[7] });
      const replayed = await Promise.all([1, 2, 3, 4, 5].map(() => client.next()));
      expect(replayed.map((f) => f.id)).toEqual(ids.slice(7));
      await expect(client.next()).resolves.toEqual({ type: 'resumed', lastId: ids[11] });
    });

    it('answers resumed with `since` when nothing is missing', async () => {
      const ids = await seed();
      const client = await connect(`${server.wsUrl}?since=${ids[7]}&rooms=eng,eng`); // a repeated room counts once
      await expect(client.next()).resolves.toMatchObject({ type: 'welcome', rooms: ['eng'] });
      await expect(client.next()).resolves.toEqual({ type: 'resumed', lastId: ids[7] });
      await expect(client.next()).resolves.toMatchObject({ type: 'notification', event: 'join', room: 'eng' });
      await client.expectNoMore('notification', 200);
    });

    it('also works as a `resume` event on an open connection', async () => {
      const ids = await seed();
      const client = await join();
      client.send('resume', { since: ids[5], rooms: ['eng', 'general', 'eng'] }); // a repeated room counts once
      const frames = [await client.next(), await client.next(), await client.next()];
      expect(frames.map((f) => f.id ?? f.type)).toEqual([ids[6], ids[7], 'resumed']);
      await expect(client.next()).resolves.toMatchObject({ type: 'notification', event: 'join', room: 'eng' });
    });

    it('rejects a bad resume query with VALIDATION and connects normally', async () => {
      const client = await connect(`${server.wsUrl}?since=-1&rooms=general`);
      await expect(client.next()).resolves.toMatchObject({ type: 'welcome', rooms: ['general'] });
      await expect(client.next()).resolves.toEqual({
        type: 'error',
        code: 'VALIDATION',
        message: 'since must not be less than 0', // the same text as {"since":-1} in the resume event
        event: 'resume',
      });
      await expect(client.next()).resolves.toMatchObject({ type: 'history' });
      await expect(client.next()).resolves.toMatchObject({ type: 'notification', event: 'join' });
    });

    it('neither loses, duplicates nor reorders live messages that race the replay', async () => {
      const writer = await join();
      for (let i = 0; i < 20; i++) writer.send('message', { message: `r${i}`, clientMsgId: `r${i}` });
      await writer.collect('ack', 20);
      // A slow replay read (as on a networked database) lets new messages commit during it.
      slowNextRead(server, 'newestSince');

      const resuming = connect(`${server.wsUrl}?since=0`);
      for (let i = 20; i < 50; i++) {
        writer.send('message', { message: `r${i}`, clientMsgId: `r${i}` });
        await new Promise((r) => setTimeout(r, 8));
      }
      const client = await resuming;
      const acks = await writer.collect('ack', 50);

      await client.collect((f) => f.type === 'message' && f.id === acks.at(-1)!.id, 1);
      await client.expectNoMore('message', 300);
      const gap = client.frames.find((f) => f.type === 'gap');
      const received = client.frames.filter((f) => f.type === 'message').map((f) => f.id as number);
      const expected = acks.map((a) => a.id as number).filter((id) => id >= (gap ? (gap.beforeId as number) : 0));
      expect(received).toEqual(expected);
      expect(client.frames.findIndex((f) => f.type === 'resumed')).toBeGreaterThan(0);
    });
  });
});

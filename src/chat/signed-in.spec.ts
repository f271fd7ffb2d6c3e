import { Logger } from '@nestjs/common';
import { FakeTransport } from '../hub/fake-transport';
import { ChatMetrics } from '../metrics/chat-metrics.service';
import { ErrorCode } from '../protocol/error-code';
import type { Identity } from '../protocol/identity';
import { StoreUnavailableError } from '../store/message-store.service';
import { ChatFixture, type Client } from './chat-fixture';
import { TRY_AGAIN_LATER } from './chat.service';
import { MembershipService } from './membership.service';

const identity = (userId: string, nickname = userId, roles: string[] = []): Identity => ({ userId, nickname, roles, expiresAt: Date.now() + 3_600_000 });

/** The chat services with signed-in users (jwt mode): what the e2e specs cannot reach, store failures first. */
describe(`${MembershipService.name} and the signed-in connect sequence`, () => {
  let fixture: ChatFixture;

  beforeEach(async () => {
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    fixture = await ChatFixture.open(new ChatMetrics(), { identified: true });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  /** A live connection of `userId`. */
  async function signIn(userId: string, roles: string[] = []): Promise<Client> {
    const client = fixture.open('/', new FakeTransport(), identity(userId, userId, roles));
    await client.session.whenLive();
    return client;
  }

  it('closes a connection with 1013 before its welcome when the store cannot record the user', async () => {
    jest.spyOn(fixture.users, 'upsertUser').mockRejectedValue(new StoreUnavailableError(new Error('disk I/O error')));

    const client = fixture.open('/', new FakeTransport(), identity('alice'));
    for (let turn = 0; turn < 100 && client.transport.closes.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));

    expect(client.transport.closes).toEqual([{ code: TRY_AGAIN_LATER.code, reason: 'Store unavailable, try again later', graceMs: 3000 }]);
    expect(client.frames()).toEqual([]);
    expect(TRY_AGAIN_LATER.code).toBe(1013);
  });

  it("sends each room's history, or UNAVAILABLE in its place, then a join per room", async () => {
    await fixture.directory.addMember('eng', 'alice');
    await fixture.users.upsertUser({ id: 'alice', nickname: 'alice', roles: [] });
    const page = fixture.store.page.bind(fixture.store);
    jest.spyOn(fixture.store, 'page').mockImplementation((query) => (query.room === 'eng' ? Promise.reject(new Error('disk')) : page(query)));

    const alice = await signIn('alice');

    expect(alice.frames()[0]).toMatchObject({ type: 'welcome', rooms: ['eng', 'general'] }); // in the order joined
    expect(alice.frames().slice(1)).toEqual([
      { type: 'error', code: ErrorCode.UNAVAILABLE, message: 'The message store is unavailable; nothing was stored or sent, try again', event: 'history' },
      { type: 'history', room: 'general', messages: [], hasMore: false },
      { type: 'notification', event: 'join', room: 'eng', nickname: 'alice', message: 'alice joined', userId: 'alice' },
      { type: 'notification', event: 'join', room: 'general', nickname: 'alice', message: 'alice joined', userId: 'alice' },
    ]);
  });

  it('answers UNAVAILABLE to a leave the store did not take; the user is out of the room all the same', async () => {
    const alice = await signIn('alice');
    jest.spyOn(fixture.directory, 'removeMember').mockRejectedValue(new StoreUnavailableError(new Error('disk')));
    alice.clear();

    fixture.rooms.leave(alice.session, { room: 'general' });
    await new Promise((resolve) => setImmediate(resolve));

    expect(alice.frames()).toEqual([
      { type: 'error', code: ErrorCode.UNAVAILABLE, message: 'You left "general" here, but the store did not record it; send leave again', event: 'leave' },
    ]);
    expect([...fixture.hub.roomsOf(alice.session)]).toEqual([]);
  });

  it('keeps a removed member out when the store did not take the removal, and stores it on a second remove', async () => {
    const olga = await signIn('olga');
    const bob = await signIn('bob');
    await fixture.rooms.create(olga.session, { room: 'plans', visibility: 'private' });
    await fixture.membership.invite(olga.session, { room: 'plans', user: 'bob' });
    const remove = jest.spyOn(fixture.directory, 'removeMember').mockRejectedValueOnce(new StoreUnavailableError(new Error('disk')));

    await expect(fixture.membership.remove(olga.session, { room: 'plans', user: 'bob' })).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
      message: 'bob is out of "plans" on this server, but the store did not record it; send remove again',
    });
    expect(fixture.hub.mayRead('plans', 'bob')).toBe(false);
    expect([...fixture.hub.roomsOf(bob.session)]).toEqual(['general']);
    await expect(fixture.directory.isMember('plans', 'bob')).resolves.toBe(true);

    await expect(fixture.membership.remove(olga.session, { room: 'plans', user: 'bob' })).resolves.toEqual({
      type: 'membership',
      room: 'plans',
      user: 'bob',
      userId: 'bob',
      member: false,
    });
    expect(remove).toHaveBeenCalledTimes(2);
    await expect(fixture.directory.isMember('plans', 'bob')).resolves.toBe(false);
  });

  it('forgets a private room the store could not create, so that its name is free again', async () => {
    const olga = await signIn('olga');
    jest.spyOn(fixture.directory, 'createRoom').mockRejectedValueOnce(new Error('disk'));

    await expect(fixture.rooms.create(olga.session, { room: 'plans', visibility: 'private' })).rejects.toBeInstanceOf(StoreUnavailableError);

    expect(fixture.hub.isPrivate('plans')).toBe(false);
    await fixture.rooms.create(olga.session, { room: 'plans', visibility: 'private' });
    expect(fixture.hub.isPrivate('plans')).toBe(true);
  });

  it('loads every private room with its owner and members, by their nicknames, at startup', async () => {
    await fixture.users.upsertUser({ id: 'u-1', nickname: 'Sam Lee', roles: [] });
    await fixture.directory.createRoom({ name: 'plans', visibility: 'private', ownerId: 'olga' });
    await fixture.directory.addMember('plans', 'u-1');
    await fixture.directory.createRoom({ name: 'open', visibility: 'public', ownerId: 'olga' });

    await fixture.membership.onApplicationBootstrap();

    expect(fixture.hub.isPrivate('plans')).toBe(true);
    expect(fixture.hub.isPrivate('open')).toBe(false);
    expect(fixture.hub.findMember('plans', 'sam lee')).toEqual({ userId: 'u-1', nickname: 'Sam Lee' });
    expect(fixture.hub.findMember('plans', 'olga')).toEqual({ userId: 'olga', nickname: 'olga' });
  });
});

describe('private rooms stored by an earlier run in jwt mode, on an anonymous server', () => {
  let fixture: ChatFixture;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fixture = await ChatFixture.open(new ChatMetrics());
    fixture.hub.loadPrivateRooms([{ name: 'plans', ownerId: 'olga', members: [{ userId: 'olga', nickname: 'olga' }] }]);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await fixture.close();
  });

  it('refuses a resume of one on the connection URL, and connects as an ordinary connection', async () => {
    await fixture.stored('plans', 'secret plan');

    const client = fixture.open('/?since=0&rooms=general,plans');
    await client.session.whenLive();

    expect(client.frames().slice(1)).toEqual([
      { type: 'error', code: ErrorCode.FORBIDDEN, message: 'Room "plans" is private: only its members can use it', event: 'resume' },
      { type: 'history', room: 'general', messages: [], hasMore: false },
      { type: 'notification', event: 'join', room: 'general', nickname: 'Guest1', message: 'Guest1 joined' },
    ]);
    expect([...fixture.hub.roomsOf(client.session)]).toEqual(['general']);
  });
});

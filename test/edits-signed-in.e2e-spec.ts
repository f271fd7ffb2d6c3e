import { AuditStore } from '../src/store/audit-store.service';
import { ChatClient, type Frame } from './support/chat-client';
import { getAs, JWT_ENV, signIn, tokenFor } from './support/signed-in';
import { startServer, type TestServer } from './support/test-app';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const edited = (id: number, message: string, room?: string): Frame => ({
  type: 'message_edited',
  id,
  ...(room === undefined ? {} : { room }),
  message,
  editedAt: expect.stringMatching(ISO),
});
const deleted = (id: number, room?: string): Frame => ({ type: 'message_deleted', id, ...(room === undefined ? {} : { room }) });
const error = (code: string, message: string, event: string): Frame => ({ type: 'error', code, message, event });
const EDIT_FORBIDDEN = 'Only its author can edit a message';
const DELETE_FORBIDDEN = 'Only its author, the room owner or an admin can delete a message';
const isNotice = (event: string, room: string, sub: string) => (f: Frame) => f.type === 'notification' && f.event === event && f.room === room && f.userId === sub;

describe('edits and deletions, AUTH_MODE=jwt (e2e)', () => {
  let server: TestServer;
  let clients: ChatClient[];

  beforeEach(async () => {
    server = await startServer(JWT_ENV);
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  async function connect(sub: string, roles: string[] = [], query = ''): Promise<ChatClient> {
    const { client } = await signIn(server, sub, sub, roles, query);
    clients.push(client);
    return client;
  }

  async function post(client: ChatClient, message: string, room = 'general'): Promise<number> {
    client.send('message', { message, room });
    return (await client.next((f) => f.type === 'message' && f.message === message)).id as number;
  }

  async function rest(method: 'PATCH' | 'DELETE', id: number, sub?: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (sub !== undefined) headers.authorization = `Bearer ${await tokenFor(sub)}`;
    const res = await fetch(`${server.httpUrl}/api/messages/${id}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json() };
  }

  it("lets a user edit and delete their messages from any device; others get FORBIDDEN, and the room sees the frames", async () => {
    const ann = await connect('ann');
    const annPhone = await connect('ann');
    const bob = await connect('bob');
    const id = await post(ann, 'from the laptop');
    const other = await post(ann, 'second');

    annPhone.send('edit', { id, message: 'fixed from the phone' });
    await expect(bob.nextOfType('message_edited')).resolves.toEqual(edited(id, 'fixed from the phone', 'general'));
    await expect(ann.nextOfType('message_edited')).resolves.toEqual(edited(id, 'fixed from the phone', 'general'));
    await expect(annPhone.nextOfType('message_edited')).resolves.toEqual(edited(id, 'fixed from the phone', 'general'));

    bob.send('edit', { id, message: 'not yours' });
    await expect(bob.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
    bob.send('delete', { id });
    await expect(bob.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', DELETE_FORBIDDEN, 'delete'));

    ann.send('delete', { id: other });
    await expect(bob.nextOfType('message_deleted')).resolves.toEqual(deleted(other, 'general'));
    const page = (await getAs(server, '/api/messages', 'bob')).body as { messages: Frame[] };
    expect(page.messages).toEqual([
      { type: 'message', id, room: 'general', nickname: 'ann', userId: 'ann', message: 'fixed from the phone', sentAt: expect.stringMatching(ISO), editedAt: expect.stringMatching(ISO) },
      { type: 'message', id: other, room: 'general', deleted: true },
    ]);
  });

  it("lets a room's owner delete any message in their room only, never edit it; admins delete anywhere; NOT_FOUND hides private rooms", async () => {
    const olga = await connect('olga');
    olga.send('create_room', { room: 'plans', visibility: 'private' });
    await olga.next(isNotice('join', 'plans', 'olga'));
    const ben = await connect('ben');
    olga.send('invite', { room: 'plans', user: 'ben' });
    await ben.next(isNotice('join', 'plans', 'ben'));
    const inPlans = await post(ben, 'ben in plans', 'plans');
    const inGeneral = await post(ben, 'ben in general');
    const eve = await connect('eve');
    const root = await connect('root', ['admin']);

    eve.send('delete', { id: inPlans });
    await expect(eve.nextOfType('error')).resolves.toEqual(error('NOT_FOUND', `No message ${inPlans}`, 'delete'));
    await expect(rest('PATCH', inPlans, 'eve', { message: 'peek' })).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: `No message ${inPlans}` },
    });
    olga.send('edit', { id: inPlans, message: 'owner edit' });
    await expect(olga.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
    olga.send('delete', { id: inGeneral });
    await expect(olga.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', DELETE_FORBIDDEN, 'delete'));

    olga.send('delete', { id: inPlans });
    await expect(ben.nextOfType('message_deleted')).resolves.toEqual(deleted(inPlans, 'plans'));
    await expect(olga.nextOfType('message_deleted')).resolves.toEqual(deleted(inPlans, 'plans'));

    root.send('delete', { id: inGeneral });
    await expect(ben.nextOfType('message_deleted')).resolves.toEqual(deleted(inGeneral, 'general'));
    await expect(root.nextOfType('message_deleted')).resolves.toEqual(deleted(inGeneral, 'general'));
    await root.expectNoMore('message_deleted');

    const audit = server.app.get(AuditStore);
    await audit.drain();
    expect((await audit.page({ limit: 10, action: 'delete' })).map(({ actor, target, room, reason }) => ({ actor, target, room, reason }))).toEqual([
      { actor: 'root', target: String(inGeneral), room: 'general', reason: 'as admin' },
      { actor: 'olga', target: String(inPlans), room: 'plans', reason: 'as room owner' },
    ]);
  });

  it('lets the sender edit and delete a direct message: both users get the frames, without room; the recipient may not, others see NOT_FOUND', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const eve = await connect('eve');
    ann.send('dm', { to: 'bob', message: 'psst' });
    const id = (await bob.nextOfType('direct')).id as number;

    bob.send('edit', { id, message: 'recipient edit' });
    await expect(bob.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
    eve.send('delete', { id });
    await expect(eve.nextOfType('error')).resolves.toEqual(error('NOT_FOUND', `No message ${id}`, 'delete'));

    ann.send('edit', { id, message: 'psst, edited' });
    const frame = await bob.nextOfType('message_edited');
    expect(frame).toEqual(edited(id, 'psst, edited'));
    await expect(ann.nextOfType('message_edited')).resolves.toEqual(frame);
    let page = (await getAs(server, '/api/dm/ann', 'bob')).body as { messages: Frame[] };
    expect(page.messages).toEqual([expect.objectContaining({ id, message: 'psst, edited', editedAt: frame.editedAt })]);

    ann.send('delete', { id });
    await expect(bob.nextOfType('message_deleted')).resolves.toEqual(deleted(id));
    await expect(ann.nextOfType('message_deleted')).resolves.toEqual(deleted(id));
    page = (await getAs(server, '/api/dm/ann', 'bob')).body as { messages: Frame[] };
    expect(page.messages).toEqual([{ type: 'direct', id, deleted: true, fromId: 'ann', toId: 'bob' }]);
    await eve.expectNoMore('message_deleted');
  });

  it('replays missed changes of room messages and direct messages on a resume', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const id = await post(ann, 'room text');
    ann.send('dm', { to: 'bob', message: 'dm text' });
    const dm = (await bob.nextOfType('direct')).id as number;
    await bob.close();

    ann.send('edit', { id, message: 'room text, edited' });
    await ann.nextOfType('message_edited');
    ann.send('delete', { id: dm });
    await ann.nextOfType('message_deleted');

    const back = await connect('bob', [], `?since=${dm}`); // past the replay: its join notice follows `resumed`
    expect(back.frames.filter((f) => f.type !== 'welcome' && f.type !== 'notification')).toEqual([
      edited(id, 'room text, edited', 'general'),
      deleted(dm),
      { type: 'resumed', lastId: dm },
    ]);
  });

  it('over REST: users edit and delete their own (200 and the frame, broadcast), 403 for others, admins delete, 401 without a token', async () => {
    const ann = await connect('ann');
    const id = await post(ann, 'rest target');

    await expect(rest('PATCH', id, 'ann', { message: 'edited over REST' })).resolves.toEqual({ status: 200, body: edited(id, 'edited over REST', 'general') });
    await expect(ann.nextOfType('message_edited')).resolves.toEqual(edited(id, 'edited over REST', 'general'));
    await expect(rest('PATCH', id, 'bob', { message: 'x' })).resolves.toEqual({ status: 403, body: { statusCode: 403, error: 'Forbidden', message: EDIT_FORBIDDEN } });
    await expect(rest('DELETE', id, 'bob')).resolves.toEqual({ status: 403, body: { statusCode: 403, error: 'Forbidden', message: DELETE_FORBIDDEN } });
    await expect(rest('PATCH', id, 'ann', { message: 'x', extra: true })).resolves.toMatchObject({ status: 400 });
    await expect(rest('DELETE', id)).resolves.toMatchObject({ status: 401 });

    const adminToken = await tokenFor('root', 'root', ['admin']);
    const res = await fetch(`${server.httpUrl}/api/messages/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toEqual(deleted(id, 'general'));
    await expect(ann.nextOfType('message_deleted')).resolves.toEqual(deleted(id, 'general'));
    await expect(rest('DELETE', id, 'ann')).resolves.toMatchObject({ status: 404 });
  });
});

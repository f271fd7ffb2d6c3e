import { AuditStore } from '../src/store/audit-store.service';
import { ChatClient, type Frame } from './support/chat-client';
import { getJson, startServer, type TestServer } from './support/test-app';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ADMIN_TOKEN = 'admin-token-for-the-edit-tests';
const edited = (id: number, message: string, room = 'general'): Frame => ({ type: 'message_edited', id, room, message, editedAt: expect.stringMatching(ISO) });
const deleted = (id: number, room = 'general'): Frame => ({ type: 'message_deleted', id, room });
const tombstone = (id: number, room = 'general'): Frame => ({ type: 'message', id, room, deleted: true });
const error = (code: string, message: string, event: string): Frame => ({ type: 'error', code, message, event });
const EDIT_FORBIDDEN = 'Only its author can edit a message';
const DELETE_FORBIDDEN = 'Only its author, the room owner or an admin can delete a message';

describe('edits and deletions, anonymous mode (e2e)', () => {
  let server: TestServer;
  const clients: ChatClient[] = [];

  beforeEach(async () => {
    server = await startServer({ ADMIN_TOKEN });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  async function join(query = '', headers: Record<string, string> = {}): Promise<ChatClient> {
    const client = await ChatClient.connect(`${server.wsUrl}${query}`, { headers });
    clients.push(client);
    await client.nextOfType('welcome');
    await client.next((f) => f.type === 'notification' || f.type === 'resumed');
    return client;
  }

  const admin = () => join('', { authorization: `Bearer ${ADMIN_TOKEN}` });

  async function post(client: ChatClient, message: string, room = 'general'): Promise<number> {
    client.send('message', { message, room });
    const frame = await client.next((f) => f.type === 'message' && f.message === message);
    return frame.id as number;
  }

  async function rest(method: 'PATCH' | 'DELETE', id: number | string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${server.httpUrl}/api/messages/${id}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json() };
  }

  /** What a replay sent: everything but presence. */
  const replayed = (client: ChatClient) => client.frames.filter((f) => f.type !== 'welcome' && f.type !== 'notification' && f.type !== 'presence');

  const restPage = async () => ((await getJson(`${server.httpUrl}/api/messages`)).body as { messages: Frame[] }).messages;

  it("shows an author's edit to the room, with editedAt in history, REST pages and the next connection's history", async () => {
    const alice = await join();
    const bob = await join();
    const id = await post(alice, 'helo wrld');
    await bob.next((f) => f.type === 'message' && f.id === id);

    alice.send('edit', { id, message: 'hello world' });

    const frame = await bob.nextOfType('message_edited');
    expect(frame).toEqual(edited(id, 'hello world'));
    expect(Object.keys(frame)).toEqual(['type', 'id', 'room', 'message', 'editedAt']);
    await expect(alice.nextOfType('message_edited')).resolves.toEqual(frame); // the sender's acknowledgement: the broadcast
    await alice.expectNoMore('message_edited');
    const stored = { type: 'message', id, room: 'general', nickname: 'Guest1', message: 'hello world', sentAt: expect.stringMatching(ISO), editedAt: frame.editedAt };
    await expect(restPage()).resolves.toEqual([stored]);
    bob.send('history', { room: 'general' });
    await expect(bob.nextOfType('history')).resolves.toEqual({ type: 'history', room: 'general', messages: [stored], hasMore: false });
    const carol = await ChatClient.connect(server.wsUrl);
    clients.push(carol);
    await expect(carol.nextOfType('history')).resolves.toEqual({ type: 'history', room: 'general', messages: [stored], hasMore: false });
  });

  it("deletes an author's message: the room is told, and every page then holds a tombstone without its text", async () => {
    const alice = await join();
    const bob = await join();
    const first = await post(alice, 'oops, my password');
    const second = await post(alice, 'still here');

    alice.send('delete', { id: first });

    await expect(bob.nextOfType('message_deleted')).resolves.toEqual(deleted(first));
    await expect(alice.nextOfType('message_deleted')).resolves.toEqual(deleted(first));
    const kept = expect.objectContaining({ id: second, message: 'still here' });
    await expect(restPage()).resolves.toEqual([tombstone(first), kept]);
    const carol = await ChatClient.connect(server.wsUrl);
    clients.push(carol);
    await expect(carol.nextOfType('history')).resolves.toEqual({ type: 'history', room: 'general', messages: [tombstone(first), kept], hasMore: false });
  });

  it('refuses anyone else: FORBIDDEN to edit or delete, even under the same nickname later; NOT_FOUND for unknown and deleted ids', async () => {
    const alice = await join();
    alice.send('nick', { nickname: 'alice' });
    await alice.nextOfType('nick_update');
    const id = await post(alice, 'mine');
    alice.send('nick', { nickname: 'zed' }); // "alice" is free again
    await alice.nextOfType('nick_update');
    const impostor = await join();
    impostor.send('nick', { nickname: 'alice' });
    await impostor.next((f) => f.type === 'nick_update' && f.nickname === 'alice');

    impostor.send('edit', { id, message: 'not yours' });
    await expect(impostor.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
    impostor.send('delete', { id });
    await expect(impostor.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', DELETE_FORBIDDEN, 'delete'));

    alice.send('edit', { id: 999, message: 'x' });
    await expect(alice.nextOfType('error')).resolves.toEqual(error('NOT_FOUND', 'No message 999', 'edit'));
    alice.send('delete', { id });
    await alice.nextOfType('message_deleted');
    alice.send('edit', { id, message: 'back from the dead' });
    await expect(alice.nextOfType('error')).resolves.toEqual(error('NOT_FOUND', `No message ${id}`, 'edit'));
    alice.send('delete', { id });
    await expect(alice.nextOfType('error')).resolves.toEqual(error('NOT_FOUND', `No message ${id}`, 'delete'));
  });

  it("gives nothing to a resend that matched another sender's clientMsgId: the ack names the original, which stays its author's", async () => {
    const alice = await join();
    const bob = await join();
    alice.send('message', { message: 'alice says', clientMsgId: 'same' });
    const original = await alice.nextOfType('ack');
    bob.send('message', { message: 'bob says', clientMsgId: 'same' });
    await expect(bob.nextOfType('ack')).resolves.toEqual(original); // anonymous clientMsgIds are per room

    bob.send('edit', { id: original.id, message: 'hijacked' });
    await expect(bob.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
  });

  it('keeps authorship through the reconnect token: the next connection of the lineage edits, the message text stays checked', async () => {
    const alice = await join();
    const id = await post(alice, 'before the tunnel');
    const token = alice.frames.find((f) => f.type === 'welcome')!.reconnectToken as string;
    await alice.close();

    const back = await join(`?token=${token}`);
    expect(back.nickname).toBe('Guest1');
    back.send('edit', { id, message: 'after the tunnel' });
    await expect(back.nextOfType('message_edited')).resolves.toEqual(edited(id, 'after the tunnel'));

    back.send('edit', { id, message: '   ' });
    await expect(back.nextOfType('error')).resolves.toEqual(
      error('VALIDATION', 'message must be a string of 1 to 4000 characters with at least one that is not whitespace', 'edit'),
    );
    back.send('edit', { id: 'one', message: 'x' });
    await expect(back.nextOfType('error')).resolves.toEqual(error('VALIDATION', 'id must be an integer number', 'edit'));
    back.send('delete', { id: 0 });
    await expect(back.nextOfType('error')).resolves.toEqual(error('VALIDATION', 'id must not be less than 1', 'delete'));
    back.send('delete', {});
    await expect(back.nextOfType('error')).resolves.toEqual(error('VALIDATION', 'id must be an integer number', 'delete'));
  });

  it('lets the ADMIN_TOKEN admin delete anyone\'s message (not edit it); outside the room the frame is its reply', async () => {
    const alice = await join();
    const id = await post(alice, 'spam spam spam');
    const other = await post(alice, 'more spam');
    const moderator = await admin();

    moderator.send('edit', { id, message: 'censored' });
    await expect(moderator.nextOfType('error')).resolves.toEqual(error('FORBIDDEN', EDIT_FORBIDDEN, 'edit'));
    moderator.send('delete', { id });
    await expect(alice.nextOfType('message_deleted')).resolves.toEqual(deleted(id));
    await expect(moderator.nextOfType('message_deleted')).resolves.toEqual(deleted(id));

    moderator.send('leave', { room: 'general' });
    await alice.next((f) => f.type === 'notification' && f.event === 'leave');
    moderator.send('delete', { id: other });
    await expect(alice.nextOfType('message_deleted')).resolves.toEqual(deleted(other));
    await expect(moderator.nextOfType('message_deleted')).resolves.toEqual(deleted(other));
    await moderator.expectNoMore('message_deleted');
  });

  it('replays, on a resume from since, the edits and deletions of messages the client had, then the newer messages as they are now', async () => {
    const alice = await join();
    const bob = await join();
    const a = await post(alice, 'one');
    const b = await post(alice, 'two');
    const c = await post(alice, 'three');
    await bob.next((f) => f.type === 'message' && f.id === c);
    await bob.close();

    alice.send('edit', { id: a, message: 'one, fixed' });
    await alice.nextOfType('message_edited');
    alice.send('delete', { id: b });
    await alice.nextOfType('message_deleted');
    const d = await post(alice, 'four');
    alice.send('edit', { id: d, message: 'four, fixed' });
    const fourEdited = await alice.nextOfType('message_edited');
    const newer = { type: 'message', id: d, room: 'general', nickname: 'Guest1', message: 'four, fixed', sentAt: expect.stringMatching(ISO), editedAt: fourEdited.editedAt };

    const back = await ChatClient.connect(`${server.wsUrl}?since=${c}&rooms=general`);
    clients.push(back);
    await back.nextOfType('resumed');
    expect(replayed(back)).toEqual([edited(a, 'one, fixed'), deleted(b), newer, { type: 'resumed', lastId: d }]);

    // From before them all: the messages as they are now, tombstone included.
    const early = await ChatClient.connect(`${server.wsUrl}?since=0&rooms=general`);
    clients.push(early);
    await early.nextOfType('resumed');
    expect(replayed(early)).toEqual([
      expect.objectContaining({ id: a, message: 'one, fixed', editedAt: expect.stringMatching(ISO) }),
      tombstone(b),
      expect.objectContaining({ id: c, message: 'three' }),
      newer,
      { type: 'resumed', lastId: d },
    ]);

    // The resume event on a live connection: the same changes.
    early.send('resume', { since: c, rooms: ['general'] });
    await early.nextOfType('resumed');
    expect(replayed(early).slice(-4)).toEqual([edited(a, 'one, fixed'), deleted(b), newer, { type: 'resumed', lastId: d }]);
  });

  it('over REST: only the ADMIN_TOKEN admin deletes (200, the frame, broadcast); 403 for anyone else, 404 unknown, 400 invalid', async () => {
    const alice = await join();
    const id = await post(alice, 'delete me over REST');

    await expect(rest('PATCH', id, { message: 'edited over REST' })).resolves.toEqual({
      status: 403,
      body: { statusCode: 403, error: 'Forbidden', message: EDIT_FORBIDDEN },
    });
    await expect(rest('DELETE', id)).resolves.toEqual({ status: 403, body: { statusCode: 403, error: 'Forbidden', message: DELETE_FORBIDDEN } });
    await expect(rest('PATCH', id, { message: 'x' }, ADMIN_TOKEN)).resolves.toMatchObject({ status: 403 });
    await expect(rest('PATCH', id, { message: '' }, ADMIN_TOKEN)).resolves.toMatchObject({ status: 400 });
    await expect(rest('DELETE', 'abc', undefined, ADMIN_TOKEN)).resolves.toMatchObject({ status: 400 });
    await expect(rest('DELETE', 999, undefined, ADMIN_TOKEN)).resolves.toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'No message 999' } });

    await expect(rest('DELETE', id, undefined, ADMIN_TOKEN)).resolves.toEqual({ status: 200, body: deleted(id) });
    await expect(alice.nextOfType('message_deleted')).resolves.toEqual(deleted(id));
    await expect(rest('DELETE', id, undefined, ADMIN_TOKEN)).resolves.toMatchObject({ status: 404 });
  });

  it('writes an audit row for every edit and deletion: actor, action, message id, room, reason, address', async () => {
    const alice = await join();
    const id = await post(alice, 'audited');
    const other = await post(alice, 'audited too');
    alice.send('edit', { id, message: 'audited, edited' });
    await alice.nextOfType('message_edited');
    alice.send('delete', { id });
    await alice.nextOfType('message_deleted');
    const moderator = await admin();
    moderator.send('delete', { id: other });
    await moderator.nextOfType('message_deleted');
    await rest('DELETE', 999, undefined, ADMIN_TOKEN); // refused: no row

    const audit = server.app.get(AuditStore);
    await audit.drain();
    const rows = await audit.page({ limit: 10 });
    const row = (actor: string, action: string, target: number, reason: string) => ({
      id: expect.any(Number),
      at: expect.stringMatching(ISO),
      actor,
      action,
      target: String(target),
      room: 'general',
      reason,
      address: '127.0.0.1',
    });
    expect(rows).toEqual([row('admin', 'delete', other, 'as admin'), row('Guest1', 'delete', id, 'as author'), row('Guest1', 'edit', id, 'as author')]);
  });
});

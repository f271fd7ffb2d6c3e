import { DIALECT_KINDS, StoreFixture } from '../database/store-fixture';
import { MessageChanges } from './message-changes.service';

describe.each(DIALECT_KINDS)(`${MessageChanges.name} (%s)`, (kind) => {
  let store: StoreFixture;
  let sut: MessageChanges;

  beforeEach(async () => {
    store = await StoreFixture.open(kind);
    sut = store.changes;
  });

  afterEach(() => store.close());

  const post = async (room: string, body: string, userId?: string) => (await store.messages.append({ room, nickname: 'ann', body, userId })).record.id;

  it('finds a message with its author and its room owner, and nothing for an unknown id', async () => {
    await store.rooms.createRoom({ name: 'plans', visibility: 'private', ownerId: 'olga' });
    const id = await post('plans', 'hello', 'ann');
    await expect(sut.find(id)).resolves.toEqual({
      id,
      room: 'plans',
      nickname: 'ann',
      userId: 'ann',
      recipient: null,
      recipientId: null,
      deletedAt: null,
      roomOwnerId: 'olga',
    });
    await expect(sut.find(id + 1)).resolves.toBeUndefined();
  });

  it('edits: new body and edited_at, which pages then carry', async () => {
    const id = await post('general', 'helo');
    const editedAt = await sut.edit(id, 'hello');
    expect(editedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    const { messages } = await store.messages.page({ room: 'general', limit: 10 });
    expect(messages).toEqual([expect.objectContaining({ id, body: 'hello', editedAt })]);
    expect(messages[0].deletedAt).toBeUndefined();
  });

  it('deletes to a tombstone: the text is gone from the row, not hidden; a deleted message is neither edited nor deleted again', async () => {
    const id = await post('general', 'secret text');
    await expect(sut.deleteMessages([id, 999])).resolves.toEqual([{ id, room: 'general', userId: null, recipientId: null }]);
    await expect(store.query('SELECT body, deleted_at IS NOT NULL AS deleted FROM messages WHERE id = ?', [id])).resolves.toEqual([{ body: '', deleted: 1 }]);
    await expect(sut.edit(id, 'back?')).resolves.toBeUndefined();
    await expect(sut.deleteMessages([id])).resolves.toEqual([]);
    const { messages } = await store.messages.page({ room: 'general', limit: 10 });
    expect(messages).toEqual([expect.objectContaining({ id, body: '', deletedAt: expect.any(String) })]);
  });

  it('lists the changes a resume from `since` missed: of messages up to since, changed at or after it, in the rooms asked for', async () => {
    const a = await post('general', 'a');
    const b = await post('general', 'b');
    const elsewhere = await post('eng', 'c');
    await sut.edit(a, 'a, edited before since moved on'); // changed_at_id = elsewhere's id
    const since = elsewhere;
    const later = await post('general', 'd'); // the client had up to `since`; `later` is replayed whole
    await sut.deleteMessages([b, later]);
    await sut.edit(elsewhere, 'c2');

    const changes = await sut.changesSince(since, ['general'], undefined, 10);
    expect(changes.map((c) => [c.id, c.body, c.deletedAt !== null, c.editedAt !== null])).toEqual([
      [a, 'a, edited before since moved on', false, true],
      [b, '', true, false],
    ]);
    await expect(sut.changesSince(later, ['general'], undefined, 10)).resolves.toEqual([
      expect.objectContaining({ id: b }),
      expect.objectContaining({ id: later }),
    ]);
    await expect(sut.changesSince(since, ['general'], undefined, 1)).resolves.toEqual([expect.objectContaining({ id: b })]);
    await expect(sut.changesSince(since, ['eng'], undefined, 10)).resolves.toEqual([expect.objectContaining({ id: elsewhere, body: 'c2' })]);
  });

  it("lists a user's direct messages' changes, and nobody else's", async () => {
    const { record } = await store.messages.appendDirect({ from: 'ann', to: 'bob', body: 'psst', fromId: 'ann', toId: 'bob' });
    await sut.deleteMessages([record.id]);
    await expect(sut.changesSince(record.id, [], 'bob', 10)).resolves.toEqual([expect.objectContaining({ id: record.id, room: null, recipientId: 'bob' })]);
    await expect(sut.changesSince(record.id, [], 'ann', 10)).resolves.toHaveLength(1);
    await expect(sut.changesSince(record.id, [], 'eve', 10)).resolves.toEqual([]);
    await expect(sut.changesSince(record.id, [], undefined, 10)).resolves.toEqual([]);
  });
});

import { RemoteMembers, type RemoteMemberInfo } from './remote-members';

const guest = (key: number, nickname: string, rooms: string[] = ['general']): RemoteMemberInfo => ({ key, nickname, connectedAt: 1, rooms });
const user = (key: number, userId: string, rooms: string[] = ['general']): RemoteMemberInfo => ({ key, nickname: userId, userId, connectedAt: 1, rooms });

describe(RemoteMembers.name, () => {
  let sut: RemoteMembers;

  beforeEach(() => {
    sut = new RemoteMembers();
  });

  it("mirrors another node's connection: its rooms, renames and close", () => {
    sut.opened('a', guest(1, 'Alice', ['general', 'dev']));
    expect(sut.size).toBe(1);
    expect(sut.rooms.of('dev').size).toBe(1);
    expect(sut.find('alice')?.nickname).toBe('Alice');

    sut.renamed('a', 1, 'Alicia');
    expect(sut.find('alice')).toBeUndefined();
    expect(sut.find('ALICIA')?.remoteKey).toBe(1);

    sut.left('a', 1, 'dev');
    expect(sut.rooms.of('dev').size).toBe(0);
    sut.closed('a', 1);
    expect(sut.size).toBe(0);
    expect(sut.rooms.of('general').size).toBe(0);
    expect(sut.find('alicia')).toBeUndefined();
  });

  it('keeps the members of two nodes apart, even under the same key', () => {
    sut.opened('a', guest(1, 'Ann'));
    sut.opened('b', guest(1, 'Bob'));
    sut.closed('a', 1);
    expect(sut.find('bob')?.node).toBe('b');
    expect(sut.size).toBe(1);
  });

  it("drops a node with the rooms its members were in, for announcing their leaves", () => {
    sut.opened('a', guest(1, 'Ann', ['general', 'dev']));
    sut.opened('a', guest(2, 'Abe'));
    sut.opened('b', guest(1, 'Bob'));
    const dropped = sut.dropNode('a');
    expect(dropped.map(({ member, rooms }) => [member.nickname, rooms])).toEqual([
      ['Ann', ['general', 'dev']],
      ['Abe', ['general']],
    ]);
    expect(sut.size).toBe(1);
    expect(sut.rooms.of('general').size).toBe(1);
    expect(sut.nodeIds()).toEqual(['b']);
  });

  it('claims the nickname keys of anonymous members only (look-alikes included), never a signed-in display name', () => {
    sut.opened('a', guest(1, 'alice'));
    sut.opened('a', user(2, 'bob'));
    expect(sut.holdsKey('alice')).toBe(true);
    expect(sut.holdsKey('bob')).toBe(false);
    expect(sut.hasUser('bob')).toBe(true);
  });

  it('knows where a signed-in user is, on any node, and takes it out of a room everywhere', () => {
    sut.opened('a', user(1, 'ann', ['general', 'dev']));
    sut.opened('b', user(7, 'ann', ['general']));
    expect(sut.userIn('ann', 'dev')).toBe(true);
    sut.userLeftRoom('ann', 'general');
    expect(sut.userIn('ann', 'general')).toBe(false);
    sut.closed('a', 1);
    expect(sut.hasUser('ann')).toBe(true);
    sut.closed('b', 7);
    expect(sut.hasUser('ann')).toBe(false);
  });
});

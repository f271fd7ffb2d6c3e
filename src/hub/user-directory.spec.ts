import { ChatException } from '../protocol/chat.exception';
import { ErrorCode } from '../protocol/error-code';
import { User } from './user';
import { UserDirectory } from './user-directory';

let nextKey = 1;
const user = (userId: string, nickname = userId): User => new User(nextKey++, userId, nickname, []);

describe(UserDirectory.name, () => {
  let sut: UserDirectory;

  beforeEach(() => {
    sut = new UserDirectory();
  });

  it('lists users in the order they came online, names and ids index for index', () => {
    const alice = user('u-a', 'Alice');
    sut.add(alice);
    sut.add(user('u-b', 'Bob'));

    expect(sut.listed()).toEqual({ names: ['Alice', 'Bob'], ids: ['u-a', 'u-b'] });
    expect(sut.page(1, 5).map((u) => u.userId)).toEqual(['u-b']);
    sut.remove(alice);
    expect(sut.listed()).toEqual({ names: ['Bob'], ids: ['u-b'] });
    expect(sut.size).toBe(1);
  });

  it('keeps the listed users between calls until one of them comes or goes', () => {
    sut.add(user('u-a'));
    const first = sut.listed();

    expect(sut.listed()).toBe(first);
    sut.add(user('u-b'));
    expect(sut.listed()).not.toBe(first);
  });

  it('finds by exact id first, then by nickname ignoring case and width', () => {
    const named = user('u-1', 'Ｓam');
    const idLikeName = user('sam', 'Someone');
    sut.add(named);
    sut.add(idLikeName);

    expect(sut.find('sam')).toBe(idLikeName);
    expect(sut.find('SAM')).toBe(named);
    expect(sut.find('nobody')).toBeUndefined();
  });

  it('answers VALIDATION for a nickname several online users share', () => {
    sut.add(user('u-1', 'Sam'));
    sut.add(user('u-2', 'sam'));

    expect(() => sut.find('SAM')).toThrow(new ChatException(ErrorCode.VALIDATION, 'Several users are named "SAM"; use the user id'));
  });

  it('ignores the removal of a user object that is not the one online under its id', () => {
    sut.add(user('u-1'));

    sut.remove(user('u-1'));

    expect(sut.get('u-1')).toBeDefined();
  });
});

import { PrivateRooms } from './private-rooms';

describe(PrivateRooms.name, () => {
  let sut: PrivateRooms;

  beforeEach(() => {
    sut = new PrivateRooms();
    sut.load([{ name: 'plans', ownerId: 'olga', members: [{ userId: 'olga', nickname: 'Olga' }, { userId: 'bob', nickname: 'Bob' }] }]);
  });

  it('lets members read a private room; public rooms are open to everyone, anonymous callers included', () => {
    expect(sut.mayRead('plans', 'bob')).toBe(true);
    expect(sut.mayRead('plans', 'carol')).toBe(false);
    expect(sut.mayRead('plans', undefined)).toBe(false);
    expect(sut.mayRead('general', undefined)).toBe(true);
  });

  it('lets the owner join again after leaving, and nobody else who is not a member', () => {
    expect(sut.remove('plans', 'olga')).toBe(true);
    expect(sut.remove('plans', 'olga')).toBe(false);

    expect(sut.mayRead('plans', 'olga')).toBe(false);
    expect(sut.mayJoin('plans', 'olga')).toBe(true);
    expect(sut.mayJoin('plans', 'carol')).toBe(false);
  });

  it("indexes each user's private rooms, and follows a user's new nickname in every one of them", () => {
    sut.create('diary', { userId: 'bob', nickname: 'Bob' });

    expect([...sut.roomsOf('bob')]).toEqual(['plans', 'diary']);
    sut.renamed('bob', 'Robert');
    expect(sut.findMember('plans', 'robert')).toEqual({ userId: 'bob', nickname: 'Robert' });
    expect(sut.findMember('diary', 'Bob')).toBeUndefined();
  });

  it('forgets a dropped room and its memberships', () => {
    sut.drop('plans');

    expect(sut.has('plans')).toBe(false);
    expect([...sut.roomsOf('bob')]).toEqual([]);
    expect(sut.size).toBe(0);
  });

  it('adds members to private rooms only', () => {
    sut.add('general', 'bob', 'Bob');

    expect(sut.has('general')).toBe(false);
    expect([...sut.roomsOf('bob')]).toEqual(['plans']);
  });

  it('replaces what it knew on a new load', () => {
    sut.load([]);

    expect(sut.has('plans')).toBe(false);
    expect([...sut.roomsOf('olga')]).toEqual([]);
  });
});

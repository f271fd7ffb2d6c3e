import { PresenceBatcher } from './presence-batcher';

const INTERVAL_MS = 1000;

describe(PresenceBatcher.name, () => {
  let emitted: Array<[room: string, joins: string[], leaves: string[]]>;
  let sut: PresenceBatcher;

  beforeEach(() => {
    jest.useFakeTimers();
    emitted = [];
    sut = new PresenceBatcher(INTERVAL_MS, (room, joins, leaves) => emitted.push([room, joins, leaves]));
  });

  afterEach(() => {
    sut.stop();
    jest.useRealTimers();
  });

  it('emits one diff per room, an interval after the first change, with the joins and the leaves in order', () => {
    sut.joined('general', 'a');
    sut.joined('general', 'b');
    sut.left('general', 'c');
    sut.joined('dev', 'a');

    jest.advanceTimersByTime(INTERVAL_MS - 1);
    expect(emitted).toEqual([]);
    jest.advanceTimersByTime(1);

    expect(emitted).toEqual([
      ['general', ['a', 'b'], ['c']],
      ['dev', ['a'], []],
    ]);
  });

  it('emits nothing more until something changes, then waits a whole interval again', () => {
    sut.joined('general', 'a');
    jest.advanceTimersByTime(INTERVAL_MS);
    jest.advanceTimersByTime(5 * INTERVAL_MS);
    expect(emitted).toHaveLength(1);

    sut.left('general', 'a');
    jest.advanceTimersByTime(INTERVAL_MS - 1);
    expect(emitted).toHaveLength(1);
    jest.advanceTimersByTime(1);

    expect(emitted).toEqual([
      ['general', ['a'], []],
      ['general', [], ['a']],
    ]);
  });

  it('drops a join and a leave of the same name within one interval, in either order', () => {
    sut.joined('general', 'a');
    sut.left('general', 'a');
    sut.left('general', 'b');
    sut.joined('general', 'b');
    sut.joined('dev', 'c');

    jest.advanceTimersByTime(INTERVAL_MS);

    expect(emitted).toEqual([['dev', ['c'], []]]); // general had no change at all: no frame
  });

  it('knows which rooms have changes waiting', () => {
    expect(sut.isPending('general')).toBe(false);
    sut.joined('general', 'a');
    expect(sut.isPending('general')).toBe(true);
    expect(sut.isPending('dev')).toBe(false);

    sut.left('general', 'a');
    expect(sut.isPending('general')).toBe(false); // cancelled out

    sut.joined('general', 'b');
    jest.advanceTimersByTime(INTERVAL_MS);
    expect(sut.isPending('general')).toBe(false);
  });

  describe('renamed', () => {
    it('moves a pending join to the new name, in every room', () => {
      sut.joined('general', 'Guest1');
      sut.joined('dev', 'Guest1');
      sut.joined('dev', 'bob');

      sut.renamed('Guest1', 'alice');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(emitted).toEqual([
        ['general', ['alice'], []],
        ['dev', ['bob', 'alice'], []],
      ]);
    });

    it('moves a pending leave to the new name: clients renamed the person in that room too', () => {
      sut.left('general', 'Guest1');

      sut.renamed('Guest1', 'alice');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(emitted).toEqual([['general', [], ['alice']]]);
    });

    it('cancels out against a pending change of the new name', () => {
      sut.left('general', 'alice'); // one alice left
      sut.joined('general', 'Guest2'); // another joined as Guest2, then takes the freed name

      sut.renamed('Guest2', 'alice');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(emitted).toEqual([]); // clients already list an "alice" in general
    });

    it('leaves names without pending changes alone', () => {
      sut.joined('general', 'bob');

      sut.renamed('carol', 'caroline');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(emitted).toEqual([['general', ['bob'], []]]);
    });
  });

  it('flush sends what is pending at once', () => {
    sut.joined('general', 'a');

    sut.flush();

    expect(emitted).toEqual([['general', ['a'], []]]);
    jest.advanceTimersByTime(INTERVAL_MS);
    expect(emitted).toHaveLength(1);
  });

  it('stop forgets what is pending and sends nothing', () => {
    sut.joined('general', 'a');

    sut.stop();
    jest.advanceTimersByTime(INTERVAL_MS);

    expect(emitted).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});

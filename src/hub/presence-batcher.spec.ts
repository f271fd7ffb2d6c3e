import { MAX_DIFF_NAMES } from '../protocol/frames';
import { PresenceBatcher, type PresenceDiff } from './presence-batcher';

const INTERVAL_MS = 1000;

/** `count` distinct names: prefix0, prefix1, ... */
const names = (prefix: string, count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `${prefix}${from + i}`);

describe(PresenceBatcher.name, () => {
  /** What was emitted, as [room, joins, leaves]; every diff here lists all its changes (totals checked apart). */
  let emitted: Array<[room: string, joins: string[], leaves: string[]]>;
  let diffs: Array<[room: string, diff: PresenceDiff]>;
  let sut: PresenceBatcher;

  beforeEach(() => {
    jest.useFakeTimers();
    emitted = [];
    diffs = [];
    sut = new PresenceBatcher(INTERVAL_MS, (room, diff) => {
      diffs.push([room, diff]);
      emitted.push([room, diff.joins, diff.leaves]);
    });
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

  it('counts every change in the totals while the lists are complete', () => {
    sut.joined('general', 'a');
    sut.joined('general', 'b');
    sut.left('general', 'c');

    jest.advanceTimersByTime(INTERVAL_MS);

    expect(diffs).toEqual([['general', { joins: ['a', 'b'], leaves: ['c'], joinsTotal: 2, leavesTotal: 1 }]]);
  });

  describe(`over ${MAX_DIFF_NAMES} changes of a kind in one interval`, () => {
    it(`names the earliest ${MAX_DIFF_NAMES} joins and the earliest ${MAX_DIFF_NAMES} leaves, and counts them all`, () => {
      const joiners = names('j', MAX_DIFF_NAMES + 50);
      const leavers = names('l', MAX_DIFF_NAMES + 1);
      for (let i = 0; i < joiners.length; i++) {
        sut.joined('general', joiners[i]);
        if (i < leavers.length) sut.left('general', leavers[i]);
      }

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs).toEqual([
        [
          'general',
          {
            joins: joiners.slice(0, MAX_DIFF_NAMES),
            leaves: leavers.slice(0, MAX_DIFF_NAMES),
            joinsTotal: MAX_DIFF_NAMES + 50,
            leavesTotal: MAX_DIFF_NAMES + 1,
          },
        ],
      ]);
    });

    it('counts only net changes: a cancelled join frees its place for the next one', () => {
      const joiners = names('j', MAX_DIFF_NAMES + 1);
      for (const name of joiners) sut.joined('general', name);
      sut.left('general', 'j0');

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs).toEqual([['general', { joins: joiners.slice(1), leaves: [], joinsTotal: MAX_DIFF_NAMES, leavesTotal: 0 }]]);
    });

    it('caps each room on its own', () => {
      for (const name of names('j', MAX_DIFF_NAMES + 1)) sut.joined('general', name);
      sut.joined('dev', 'a');

      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs.map(([room, diff]) => [room, diff.joins.length, diff.joinsTotal])).toEqual([
        ['general', MAX_DIFF_NAMES, MAX_DIFF_NAMES + 1],
        ['dev', 1, 1],
      ]);
    });

    it('records a pending change anew, last, when its member is renamed', () => {
      const joiners = names('j', MAX_DIFF_NAMES + 1);
      for (const name of joiners) sut.joined('general', name);

      sut.renamed('j0', 'alice');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs).toEqual([['general', { joins: joiners.slice(1), leaves: [], joinsTotal: MAX_DIFF_NAMES + 1, leavesTotal: 0 }]]);
    });

    it('starts every interval afresh', () => {
      for (const name of names('j', MAX_DIFF_NAMES + 1)) sut.joined('general', name);
      jest.advanceTimersByTime(INTERVAL_MS);

      sut.left('general', 'j100');
      jest.advanceTimersByTime(INTERVAL_MS);

      expect(diffs[1]).toEqual(['general', { joins: [], leaves: ['j100'], joinsTotal: 0, leavesTotal: 1 }]);
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

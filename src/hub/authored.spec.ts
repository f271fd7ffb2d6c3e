import { Authored, MAX_AUTHORED } from './authored';

describe(Authored.name, () => {
  it(`remembers the newest ${MAX_AUTHORED} ids, forgetting the oldest first`, () => {
    const sut = new Authored();
    for (let id = 1; id <= MAX_AUTHORED + 2; id++) sut.add(id);

    expect(sut.has(1)).toBe(false);
    expect(sut.has(2)).toBe(false);
    expect(sut.has(3)).toBe(true);
    expect(sut.has(MAX_AUTHORED + 2)).toBe(true);
    expect(sut.has(MAX_AUTHORED + 3)).toBe(false);
  });
});

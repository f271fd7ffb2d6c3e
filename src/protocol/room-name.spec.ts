import { isValidRoomName } from './room-name';

describe(isValidRoomName.name, () => {
  it.each(['general', 'eng', 'a', 'team_42', 'v1.2-beta', 'Café', 'カフェ', 'e\u0301te', 'x'.repeat(64)])('accepts %p', (name) => {
    expect(isValidRoomName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['a space', 'my room'],
    ['a leading combining mark', '\u0301general'],
    ['a slash', 'a/b'],
    ['a Hangul filler (a letter that draws nothing)', 'general\u3164'],
    ['a combining grapheme joiner', 'gen\u034Feral'],
    ['a variation selector', 'general\uFE0F'],
    ['a zero-width joiner', 'gen\u200Deral'],
    ['a Hangul choseong filler alone', '\u115F'],
  ])('refuses %s', (_why, name) => {
    expect(isValidRoomName(name)).toBe(false);
  });
});

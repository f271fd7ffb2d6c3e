import { isValidNickname, nicknameKey } from './nickname';

describe(isValidNickname.name, () => {
  it.each([
    ['plain ASCII', 'alice'],
    ['CJK letters', '张三'],
    ['letters, digits and the three allowed punctuation marks', 'a.b-c_1'],
    ['a name that starts with punctuation', '_alice'],
    ['a single character', 'x'],
    ['32 ASCII letters', 'a'.repeat(32)],
    ['32 CJK letters', '张'.repeat(32)],
    ['32 astral letters (64 UTF-16 units, counted as 32 code points)', '\u{20000}'.repeat(32)],
    ['Devanagari with combining vowel signs and virama', 'नमस्ते'],
    ['a decomposed accent (e + U+0301)', 'cafe\u0301'],
    ['32 code points of letters and combining marks', 'e\u0301'.repeat(16)],
    ['Arabic-Indic digits', '١٢٣'],
  ])('accepts %s', (_label, nickname) => {
    expect(isValidNickname(nickname)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['33 ASCII letters', 'a'.repeat(33)],
    ['33 CJK letters', '张'.repeat(33)],
    ['33 code points of letters and combining marks', 'e\u0301'.repeat(16) + 'a'],
    ['a space inside', 'alice smith'],
    ['a leading space', ' alice'],
    ['a trailing space', 'alice '],
    ['markup', '<b>'],
    ['markup around a name', '<b>alice</b>'],
    ['quotes', 'a"b'],
    ['a NUL character', 'a\u0000b'],
    ['a tab', 'a\tb'],
    ['a newline', 'alice\n'],
    ['the DEL control character', 'a\u007fb'],
    ['a right-to-left override (U+202E)', '\u202eecila'],
    ['a right-to-left override inside', 'a\u202eb'],
    ['a zero-width joiner alone', '\u200d'],
    ['a zero-width joiner between letters', 'a\u200db'],
    ['a zero-width space', 'a\u200bb'],
    ['an emoji', '😀'],
    ['a name with an emoji', 'alice😀'],
    ['a leading combining mark', '\u0301a'],
    ['a lone surrogate', 'a\ud800'],
    ['@ and #', 'a@b#c'],
  ])('rejects %s', (_label, nickname) => {
    expect(isValidNickname(nickname)).toBe(false);
  });
});

describe(nicknameKey.name, () => {
  it('lowercases ASCII', () => {
    expect(nicknameKey('Alice')).toBe('alice');
    expect(nicknameKey('ALICE')).toBe(nicknameKey('alice'));
  });

  it('folds full-width compatibility forms (NFKC): "Ａlice" clashes with "alice"', () => {
    expect(nicknameKey('Ａlice')).toBe('alice');
    expect(nicknameKey('ＡＬＩＣＥ')).toBe('alice');
  });

  it('treats composed and decomposed accents as the same name', () => {
    expect(nicknameKey('Caf\u00e9')).toBe(nicknameKey('cafe\u0301'));
  });

  it('keeps names that differ apart', () => {
    expect(nicknameKey('alice')).not.toBe(nicknameKey('alice1'));
    expect(nicknameKey('张三')).toBe('张三');
  });

  it('treats Greek final sigma as the same letter as sigma ("ΣΑΣ", "σας" and "σασ" clash)', () => {
    expect(nicknameKey('ΣΑΣ')).toBe(nicknameKey('σασ'));
    expect(nicknameKey('σας')).toBe(nicknameKey('σασ'));
  });

  it('folds sharp s like full case folding ("Straße" clashes with "STRASSE")', () => {
    expect(nicknameKey('Straße')).toBe(nicknameKey('STRASSE'));
  });

  // "ẞ".toUpperCase() is "ẞ" while "ß" upper-cases to "SS": lower-casing first folds both.
  it('treats capital sharp s (U+1E9E) like "ß" ("STRAẞE" clashes with "straße")', () => {
    expect(nicknameKey('STRAẞE')).toBe(nicknameKey('straße'));
  });

  // "ΐ" (U+0390) upper-cases to three code points; the final NFKC recomposes the key.
  it('keys the upper- and lower-case Greek "ΐ" alike', () => {
    expect(nicknameKey('\u0390')).toBe(nicknameKey('\u03aa\u0301'));
  });
});

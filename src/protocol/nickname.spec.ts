import { brokenNicknameRule, isValidNickname, nicknameKey, nicknameKeys } from './nickname';

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
    ['Greek', 'Ελένη'],
    ['Cyrillic', 'Саша_2'],
    ['Latin with Japanese (UTS #39 Highly Restrictive)', 'たなかTanaka'],
    ['Latin with Han and Hangul', 'Kim김金'],
    ['Latin with Han and Bopomofo', 'Lin林ㄌㄧㄣ'],
    ['a Cyrillic name that looks Latin (a whole-script confusable: only uniqueness catches it)', 'аӀісе'],
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
    ['the Hangul filler U+3164 alone', '\u3164'],
    ['the Hangul filler U+3164 after a letter', 'a\u3164'],
    ['the Hangul choseong filler U+115F', '\u115Falice'],
    ['the Hangul jungseong filler U+1160', 'alice\u1160'],
    ['the halfwidth Hangul filler U+FFA0', '\uFFA0'],
    ['a variation selector (U+FE0F) after a letter', 'a\uFE0F'],
    ['the combining grapheme joiner (U+034F)', 'a\u034Fb'],
    ['a Mongolian free variation selector (U+180B)', '\u1820\u180B'],
    ['a soft hyphen (U+00AD)', 'ali\u00ADce'],
    ['a left-to-right mark (U+200E)', 'alice\u200E'],
    ['the Braille blank (U+2800)', '\u2800'],
  ])('rejects %s as not letters', (_label, nickname) => {
    expect(isValidNickname(nickname)).toBe(false);
    expect(brokenNicknameRule(nickname)).toBe('be 1 to 32 letters, digits, "_", "-" or "."');
  });

  it.each([
    ['Latin with one Cyrillic letter', 'pаypal'],
    ['a Cyrillic "а" in a Latin name', 'аlice'],
    ['a Greek "α" in a Latin name', 'αlice'],
    ['Latin with Greek', 'alice_Ελένη'],
    ['Latin with Arabic', 'ali_علي'],
    ['Latin with Arabic-Indic digits', 'ali١'],
    ['Cyrillic with Latin', 'Сашаkiller'],
  ])('rejects %s as mixing scripts', (_label, nickname) => {
    expect(isValidNickname(nickname)).toBe(false);
    expect(brokenNicknameRule(nickname)).toBe('use one script (Latin may be mixed only with Chinese, Japanese or Korean)');
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

describe(nicknameKeys.name, () => {
  const clash = (a: string, b: string): boolean => nicknameKeys(a).some((key) => nicknameKeys(b).includes(key));

  it('starts with nicknameKey()', () => {
    for (const name of ['alice', 'ALICE', 'aIice', 'Guest12', 'Straße']) expect(nicknameKeys(name)[0]).toBe(nicknameKey(name));
  });

  it('holds each key once', () => {
    expect(nicknameKeys('alice')).toEqual(['alice']);
    expect(nicknameKeys('bob')).toEqual(['bob']);
  });

  it.each([
    ['upper case', 'ALICE'],
    ['mixed case', 'aLiCe'],
    ['full-width forms', 'Ａｌｉｃｅ'],
    ['a capital I for the l', 'aIice'],
    ['capitals A and I (looks like "Alice")', 'AIice'],
    ['a digit 1 for the l', 'a1ice'],
    ['a Cyrillic "а"', 'аlice'],
    ['a Greek "α"', 'αlice'],
    ['Cyrillic letters only (а, Ӏ, і, с, е)', 'аӀісе'],
  ])('makes "alice" clash with %s (%s)', (_label, name) => {
    expect(clash(name, 'alice')).toBe(true);
  });

  it.each([
    ['paypal', 'pаypal'],
    ['paypal', 'рауpаl'],
    ['modern', 'rnodern'],
    ['MODERN', 'rnodern'],
    ['bob', 'b0b'],
    ['ABE', 'ΑΒΕ'],
    ['Guest1', 'Guestl'],
  ])('makes %j clash with its look-alike %j', (a, b) => {
    expect(clash(a, b)).toBe(true);
  });

  it.each([
    ['alice', 'alice1'],
    ['alice', 'alise'],
    ['alice', 'bob'],
    ['alice', 'АӀІСЕ'], // reads "AIICE"
    ['Ελένη', 'ελενη'],
    ['Guest1', 'Guest2'],
    ['张三', '张四'],
    ['anna', 'ana'],
  ])('keeps %j and %j apart', (a, b) => {
    expect(clash(a, b)).toBe(false);
  });

  it('keeps the case-folding clashes of nicknameKey()', () => {
    expect(clash('ΣΑΣ', 'σας')).toBe(true);
    expect(clash('Straße', 'STRASSE')).toBe(true);
  });
});

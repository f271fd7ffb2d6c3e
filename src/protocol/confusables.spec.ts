import { isHighlyRestrictive, KNOWN_SCRIPTS, skeleton } from './confusables';

describe(skeleton.name, () => {
  it.each([
    ['Cyrillic а', 'аlice', 'alice'],
    ['Greek α', 'αlice', 'alice'],
    ['capital I', 'aIice', 'alice'],
    ['digit 1', 'a1ice', 'alice'],
    ['digit 0', 'b0b', 'bOb'],
    ['m as r + n', 'modern', 'rnodern'],
    ['full-width letters', 'Ａｌｉｃｅ', 'Alice'],
    ['mathematical letters', '𝔭𝒶ỿ𝕡𝕒ℓ', 'paypal'],
    ['whole-script Cyrillic', 'аӀісе', 'alice'],
  ])('maps %s to its prototype (%j -> %j)', (_label, text, expected) => {
    expect(skeleton(text)).toBe(expected);
  });

  it('leaves characters without a prototype as they are, in NFD', () => {
    expect(skeleton('张三')).toBe('张三');
    expect(skeleton('é')).toBe('e\u0301');
    expect(skeleton('e\u0301')).toBe(skeleton('é'));
  });

  it.each([
    ['a zero-width space', 'pay\u200bpal'],
    ['a zero-width joiner', 'pay\u200dpal'],
    ['a soft hyphen', 'pay\u00adpal'],
    ['a Hangul filler', 'pay\u3164pal'],
    ['a variation selector', 'pay\ufe0fpal'],
  ])('drops default-ignorable code points such as %s', (_label, text) => {
    expect(skeleton(text)).toBe('paypal');
  });

  it('is idempotent, as UTS #39 requires of its data', () => {
    for (const text of ['аlice', 'AIice', 'modern', 'Ελένη', '𝔭𝒶ỿ𝕡𝕒ℓ', 'ΣΑΣ']) expect(skeleton(skeleton(text))).toBe(skeleton(text));
  });
});

describe(isHighlyRestrictive.name, () => {
  it.each([
    ['ASCII', 'Guest_42'],
    ['Latin with accents', 'Zoë-Ångström'],
    ['Greek', 'Ελένη'],
    ['Cyrillic', 'Саша'],
    ['Han', '张三'],
    ['Japanese: Han, Hiragana, Katakana and the prolonged sound mark', '山田たろうラーメン'],
    ['Latin with Japanese', 'たなかTanaka'],
    ['Latin with Han and Bopomofo', 'Lin林ㄌㄧㄣ'],
    ['Latin with Han and Hangul', 'Kim김金'],
    ['Devanagari with its combining signs', 'नमस्ते'],
    ['Arabic with Arabic-Indic digits', 'علي١٢'],
    ['digits and punctuation only', '42_-.'],
    ['the empty string', ''],
  ])('accepts %s', (_label, text) => {
    expect(isHighlyRestrictive(text)).toBe(true);
  });

  it.each([
    ['Latin with one Cyrillic letter', 'pаypal'],
    ['Latin with Greek', 'αlice'],
    ['Cyrillic with Latin', 'Сашаkiller'],
    ['Latin with Arabic', 'ali_علي'],
    ['Latin with Arabic-Indic digits', 'ali١'],
    ['Japanese kana with Hangul', 'たなか김'],
    ['Greek with Cyrillic', 'Ελένа'],
  ])('rejects %s', (_label, text) => {
    expect(isHighlyRestrictive(text)).toBe(false);
  });

  it("knows the script of every letter, mark and digit of this Node's Unicode", () => {
    const anyScript = new RegExp(`^[${[...KNOWN_SCRIPTS.keys(), 'Zyyy', 'Zinh'].map((code) => `\\p{scx=${code}}`).join('')}]$`, 'u');
    const candidate = /^[\p{L}\p{M}\p{Nd}]$/u;
    const unknown: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const char = String.fromCodePoint(cp);
      if (candidate.test(char) && !anyScript.test(char)) unknown.push(cp.toString(16));
    }
    expect(unknown).toEqual([]);
  });
});

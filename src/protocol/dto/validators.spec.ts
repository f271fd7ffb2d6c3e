import { ChatException } from '../chat.exception';
import { ErrorCode } from '../error-code';
import { validatePayload } from '../validate-payload';
import { IsChatText, IsIntegerIn, IsNickname } from './validators';

class Text {
  @IsChatText()
  text!: string;
}

class Name {
  @IsNickname()
  name!: string;
}

class Count {
  @IsIntegerIn(0, 10)
  n!: number;
}

/** The VALIDATION error's message, asserting that it is one. */
function validationMessage(dtoClass: new () => object, value: object): string {
  let error: unknown;
  try {
    validatePayload(dtoClass, value);
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(ChatException);
  expect((error as ChatException).code).toBe(ErrorCode.VALIDATION);
  return (error as ChatException).message;
}

describe(IsChatText.name, () => {
  const SHAPE = 'text must be a string of 1 to 4000 characters with at least one that is not whitespace';
  const VISIBLE = 'text must have at least one visible character';

  it.each([
    ['text', 'hi'],
    ['one letter among invisible ones', '\u200bx\u200b'],
    ['a single combining mark', '\u0301'],
    ['an emoji', '😀'],
    ['an Arabic number sign, a format character that shows', '\u0600'],
    ['a CJK ideograph among ideographic spaces', '\u3000字\u3000'],
  ])('accepts %s', (_label, text) => {
    expect(validatePayload(Text, { text })).toEqual({ text });
  });

  it.each([
    ['zero-width spaces', '\u200b\u200b'],
    ['zero-width joiners and non-joiners', '\u200d\u200c'],
    ['a word joiner and a BOM', '\u2060\ufeff'],
    ['bidi controls', '\u202e\u2066\u2069\u200f'],
    ['Hangul fillers', '\u3164\u115f\u1160\uffa0'],
    ['a Hangul filler between spaces', ' \u3164 '],
    ['variation selectors', '\ufe0f\u{e0100}'],
    ['a soft hyphen', '\u00ad'],
    ['the Braille blank', '\u2800\u2800'],
    ['tag characters', '\u{e0041}\u{e007f}'],
    ['the Mongolian vowel separator', '\u180e'],
  ])('rejects a message of only %s as having nothing visible', (_label, text) => {
    expect(validationMessage(Text, { text })).toBe(VISIBLE);
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \t\n\u00a0\u3000'],
    ['not a string', 42],
    ['4001 characters', 'x'.repeat(4001)],
    ['a lone surrogate', 'a\ud800'],
  ])('keeps the length-and-whitespace message for %s', (_label, text) => {
    expect(validationMessage(Text, { text })).toBe(SHAPE);
  });
});

describe(IsNickname.name, () => {
  it('accepts a nickname', () => {
    expect(validatePayload(Name, { name: 'alice' })).toEqual({ name: 'alice' });
  });

  it.each([[''], ['a b'], ['\u3164'], ['al\u115Fice'], [42], [null]])('rejects %j with the character rule', (name) => {
    expect(validationMessage(Name, { name })).toBe('name must be 1 to 32 letters, digits, "_", "-" or "."');
  });

  it.each([['pаypal'], ['αlice']])('rejects %j with the script rule', (name) => {
    expect(validationMessage(Name, { name })).toBe('name must use one script (Latin may be mixed only with Chinese, Japanese or Korean)');
  });
});

describe(IsIntegerIn.name, () => {
  it.each([
    [0, 0],
    [10, 10],
    ['7', 7],
    ['007', 7],
  ])('accepts %j as %j', (n, expected) => {
    expect(validatePayload(Count, { n })).toEqual({ n: expected });
  });

  it.each([
    [1.5, 'n must be an integer number'],
    ['1.5', 'n must be an integer number'],
    ['1e1', 'n must be an integer number'],
    ['+1', 'n must be an integer number'],
    [' 1', 'n must be an integer number'],
    ['', 'n must be an integer number'],
    [true, 'n must be an integer number'],
    [null, 'n must be an integer number'],
    [11, 'n must not be greater than 10'],
    ['11', 'n must not be greater than 10'],
    [-1, 'n must not be less than 0'],
    ['-1', 'n must not be less than 0'],
  ])('rejects %j with one message: %s', (n, message) => {
    expect(validationMessage(Count, { n })).toBe(message);
  });

  it('caps the default maximum at Number.MAX_SAFE_INTEGER', () => {
    class Id {
      @IsIntegerIn(1)
      id!: number;
    }
    expect(validatePayload(Id, { id: Number.MAX_SAFE_INTEGER })).toEqual({ id: Number.MAX_SAFE_INTEGER });
    expect(validationMessage(Id, { id: 2 ** 53 })).toBe('id must not be greater than 9007199254740991');
    expect(validationMessage(Id, { id: '9007199254740992' })).toBe('id must not be greater than 9007199254740991');
  });
});

import { ChatException } from './chat.exception';
import { ResumeDto } from './dto/resume.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { ErrorCode } from './error-code';
import { MAX_DATA_DEPTH, validatePayload } from './validate-payload';

const DEPTH_RULE = 'data must not be nested more than 8 levels deep';

/** An array holding an array … `levels` arrays in all, the innermost holding `leaf`. */
function arrays(levels: number, leaf: unknown = 'x'): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** `levels` objects nested under the key `a`. */
function objects(levels: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe(validatePayload.name, () => {
  /** The VALIDATION error's message, asserting that it is one. */
  function validationMessage(dtoClass: new () => object, value: unknown): string {
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

  it('returns a DTO instance holding the declared fields only', () => {
    const sut = validatePayload(SendMessageDto, { message: 'hi', room: 'dev', isAdmin: true });
    expect(sut).toBeInstanceOf(SendMessageDto);
    expect(sut).toEqual({ message: 'hi', room: 'dev' });
  });

  describe('nesting depth', () => {
    it(`is limited to ${MAX_DATA_DEPTH} levels, data being the first`, () => {
      expect(MAX_DATA_DEPTH).toBe(8);
    });

    it('lets data nested 8 levels deep through to the field rules', () => {
      // data (1) > clientMsgId (2..8): 7 arrays.
      expect(validationMessage(SendMessageDto, { message: 'hi', clientMsgId: arrays(7) })).toBe(
        'clientMsgId must be a string of 1 to 64 characters',
      );
      expect(validatePayload(SendMessageDto, { message: 'hi', extra: objects(7) })).toEqual({ message: 'hi' });
    });

    it.each([
      ['an array in a declared field', { message: 'hi', clientMsgId: arrays(8) }],
      ['objects in a declared field', { message: objects(8) }],
      ['objects in an undeclared field', { message: 'hi', extra: objects(8) }],
      ['an empty array at level 9', { message: 'hi', extra: arrays(7, []) }],
      ['an array behind earlier, shallow items', { message: 'hi', extra: [1, 'two', { three: 3 }, arrays(8)] }],
      ['50,000 arrays', { message: 'hi', clientMsgId: arrays(50_000) }],
      ['50,000 objects', { message: objects(50_000) }],
    ])('rejects data nested 9 or more levels deep: %s', (_label, data) => {
      expect(validationMessage(SendMessageDto, data)).toBe(DEPTH_RULE);
    });

    it('counts depth under a JSON "__proto__" key too', () => {
      const data = JSON.parse(`{"message":"hi","__proto__":${JSON.stringify(arrays(8))}}`) as unknown;
      expect(validationMessage(SendMessageDto, data)).toBe(DEPTH_RULE);
    });

    it('applies to every DTO', () => {
      expect(validationMessage(ResumeDto, { since: 0, rooms: arrays(8) })).toBe(DEPTH_RULE);
    });
  });
});

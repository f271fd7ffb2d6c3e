import { ChatException } from '../chat.exception';
import { ErrorCode } from '../error-code';
import { validatePayload } from '../validate-payload';
import { MAX_RESUME_ROOMS, ResumeDto } from './resume.dto';

const SINCE_INT = 'since must be an integer number';
const SINCE_MIN = 'since must not be less than 0';
const SINCE_MAX = 'since must not be greater than 9007199254740991';
const ROOM_RULE = 'rooms must be 1 to 64 letters, digits, "_", "-" or "."';
const rooms = (n: number): string[] => Array.from({ length: n }, (_, i) => `room-${i}`);

/** The `resume` event's data, and the `?since=&rooms=` query of a connection URL, as ChatService reads it. */
describe(ResumeDto.name, () => {
  /** The VALIDATION error's message, asserting that it is one. */
  function validationMessage(value: unknown): string {
    let error: unknown;
    try {
      validatePayload(ResumeDto, value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChatException);
    expect((error as ChatException).code).toBe(ErrorCode.VALIDATION);
    return (error as ChatException).message;
  }

  describe('since', () => {
    it.each([0, 1, 42, Number.MAX_SAFE_INTEGER])('accepts %j', (since) => {
      const sut = validatePayload(ResumeDto, { since });
      expect(sut).toBeInstanceOf(ResumeDto);
      expect(sut).toEqual({ since });
    });

    it.each([
      ['0', 0],
      ['12', 12],
      ['007', 7],
      ['00000000000000000012', 12],
      ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ])('converts the query-string value %j to %j', (since, expected) => {
      expect(validatePayload(ResumeDto, { since })).toEqual({ since: expected });
    });

    it.each([
      ['missing', {}],
      ['null', { since: null }],
      ['a fraction', { since: 1.5 }],
      ['a boolean', { since: true }],
      ['an empty string', { since: '' }],
      ['a word', { since: 'abc' }],
      ['a fractional string', { since: '1.5' }],
      ['an exponent', { since: '1e3' }],
      ['a hex string', { since: '0x10' }],
      ['padded with spaces', { since: ' 12 ' }],
      ['an array', { since: [1] }],
    ])('rejects since when it is %s', (_label, value) => {
      expect(validationMessage(value)).toBe(SINCE_INT);
    });

    it.each([-1, -1000, '-1', '-0001000'])('rejects a negative since (%j)', (since) => {
      expect(validationMessage({ since })).toBe(SINCE_MIN);
    });

    // One rule whether since is a JSON number or text, as it is on the connection URL.
    it.each([Number.MAX_SAFE_INTEGER + 1, 1e20, '9007199254740992', '100000000000000000000', '9'.repeat(300)])(
      'rejects since %j, above Number.MAX_SAFE_INTEGER',
      (since) => {
        expect(validationMessage({ since })).toBe(SINCE_MAX);
      },
    );

    it('rejects since too large to be a finite number as not an integer, like the JSON number would be', () => {
      expect(validationMessage({ since: '9'.repeat(400) })).toBe(SINCE_INT);
      expect(validationMessage({ since: Infinity })).toBe(SINCE_INT);
    });
  });

  describe('rooms', () => {
    it('is optional', () => {
      expect(validatePayload(ResumeDto, { since: 3 })).toEqual({ since: 3 });
    });

    it('takes an array of room names as it is', () => {
      expect(validatePayload(ResumeDto, { since: 3, rooms: ['general', 'eng', 'café.2'] })).toEqual({
        since: 3,
        rooms: ['general', 'eng', 'café.2'],
      });
    });

    it('splits a comma-separated list, as the connection URL carries it', () => {
      expect(validatePayload(ResumeDto, { since: '3', rooms: 'general,eng' })).toEqual({ since: 3, rooms: ['general', 'eng'] });
      expect(validatePayload(ResumeDto, { since: '3', rooms: 'general' })).toEqual({ since: 3, rooms: ['general'] });
    });

    it(`accepts 1 to ${MAX_RESUME_ROOMS} rooms`, () => {
      expect(MAX_RESUME_ROOMS).toBe(50);
      expect(validatePayload(ResumeDto, { since: 0, rooms: rooms(1) }).rooms).toHaveLength(1);
      expect(validatePayload(ResumeDto, { since: 0, rooms: rooms(50) }).rooms).toEqual(rooms(50));
      expect(validatePayload(ResumeDto, { since: 0, rooms: rooms(50).join(',') }).rooms).toEqual(rooms(50));
    });

    it('rejects an empty list', () => {
      expect(validationMessage({ since: 0, rooms: [] })).toBe('rooms must contain at least 1 elements');
    });

    it(`rejects more than ${MAX_RESUME_ROOMS} rooms, as an array or a list`, () => {
      expect(validationMessage({ since: 0, rooms: rooms(51) })).toBe('rooms must contain no more than 50 elements');
      expect(validationMessage({ since: 0, rooms: rooms(51).join(',') })).toBe('rooms must contain no more than 50 elements');
    });

    it.each([
      ['an empty string', ''],
      ['an empty item in the list', 'general,,eng'],
      ['a trailing comma', 'general,'],
      ['a space after a comma', 'general, eng'],
      ['a name with a space', ['general', 'no spaces']],
      ['a number in the array', [1]],
      ['a 65-character name', ['r'.repeat(65)]],
    ])('rejects %s naming the room rule', (_label, value) => {
      expect(validationMessage({ since: 0, rooms: value })).toBe(ROOM_RULE);
    });

    it.each([
      ['a number', 42],
      ['an object', { general: true }],
    ])('rejects %s as not an array', (_label, value) => {
      expect(validationMessage({ since: 0, rooms: value })).toBe('rooms must be an array');
    });
  });

  it('names every broken field, one rule each', () => {
    expect(validationMessage({ since: -1, rooms: [] })).toBe(`${SINCE_MIN}; rooms must contain at least 1 elements`);
    expect(validationMessage({ rooms: 'bad room' })).toBe(`${SINCE_INT}; ${ROOM_RULE}`);
  });

  it('strips properties it does not declare', () => {
    expect(validatePayload(ResumeDto, { since: 1, rooms: ['dev'], nickname: 'root' })).toEqual({ since: 1, rooms: ['dev'] });
  });
});

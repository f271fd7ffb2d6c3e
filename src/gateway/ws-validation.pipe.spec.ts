import type { ArgumentMetadata } from '@nestjs/common';
import { ChatException } from '../protocol/chat.exception';
import { HistoryQueryDto } from '../protocol/dto/history-query.dto';
import { SendMessageDto } from '../protocol/dto/send-message.dto';
import { SetNicknameDto } from '../protocol/dto/set-nickname.dto';
import { ErrorCode } from '../protocol/error-code';
import { WsValidationPipe } from './ws-validation.pipe';

const MESSAGE_RULE = 'message must be a string of 1 to 4000 characters with at least one that is not whitespace';
const CLIENT_MSG_ID_RULE = 'clientMsgId must be a string of 1 to 64 characters';
const NICKNAME_RULE = 'nickname must be 1 to 32 letters, digits, "_", "-" or "."';
const ROOM_RULE = 'room must be 1 to 64 letters, digits, "_", "-" or "."';

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

describe(WsValidationPipe.name, () => {
  let sut: WsValidationPipe;

  beforeEach(() => {
    sut = new WsValidationPipe();
  });

  /** The VALIDATION error's message, asserting that it is one. */
  function validationMessage(value: unknown, metatype: ArgumentMetadata['metatype']): string {
    let error: unknown;
    try {
      sut.transform(value, body(metatype));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ChatException);
    expect((error as ChatException).code).toBe(ErrorCode.VALIDATION);
    return (error as ChatException).message;
  }

  describe('envelope', () => {
    it.each([
      ['a string', 'hello'],
      ['a number', 42],
      ['a boolean', true],
      ['an array', [{ message: 'hi' }]],
    ])('rejects data that is %s with "data must be an object"', (_label, value) => {
      expect(validationMessage(value, SendMessageDto)).toBe('data must be an object');
    });

    it.each([
      ['missing', undefined],
      ['null', null],
    ])('treats %s data as {} and validates it', (_label, value) => {
      expect(validationMessage(value, SendMessageDto)).toBe(MESSAGE_RULE);
      const dto = sut.transform(value, body(HistoryQueryDto));
      expect(dto).toBeInstanceOf(HistoryQueryDto);
      expect(dto).toEqual({});
    });

    it('returns an instance of the DTO', () => {
      const dto = sut.transform({ message: 'hi' }, body(SendMessageDto));
      expect(dto).toBeInstanceOf(SendMessageDto);
      expect(dto).toEqual({ message: 'hi' });
    });

    it('strips properties the DTO does not declare', () => {
      const dto = sut.transform({ message: 'hi', clientMsgId: 'c1', nickname: 'root', isAdmin: true }, body(SendMessageDto));
      expect(Object.entries(dto as object).filter(([, v]) => v !== undefined)).toEqual([
        ['message', 'hi'],
        ['clientMsgId', 'c1'],
      ]);
    });

    it('does not let a "__proto__" key from JSON reach the DTO or Object.prototype', () => {
      const dto = sut.transform(JSON.parse('{"message":"hi","__proto__":{"polluted":true}}'), body(SendMessageDto));
      expect(dto).toEqual({ message: 'hi' });
      expect((dto as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['custom (the @ConnectedSocket() parameter)', { type: 'custom', metatype: SendMessageDto }],
      ['body without a metatype', { type: 'body' }],
      ['body typed as Object', { type: 'body', metatype: Object }],
    ] as [string, ArgumentMetadata][])('returns the value untouched for %s', (_label, metadata) => {
      const value = { message: '', anything: 1 };
      expect(sut.transform(value, metadata)).toBe(value);
    });
  });

  describe(SendMessageDto.name, () => {
    it.each([
      ['one character', 'x'],
      ['HTML, kept verbatim', '<script>alert("x")</script> &amp; <b>'],
      ['surrounding whitespace, kept verbatim', '  hi \n'],
      ['4000 ASCII characters', 'a'.repeat(4000)],
      ['4000 emoji (8000 UTF-16 units)', '😀'.repeat(4000)],
      ['a zero-width space next to text', 'a\u200b'],
      ['Devanagari', 'नमस्ते'],
    ])('accepts %s', (_label, message) => {
      expect(sut.transform({ message }, body(SendMessageDto))).toEqual({ message });
    });

    it.each([
      ['missing', undefined],
      ['null', null],
      ['empty', ''],
      ['spaces only', '   '],
      ['mixed whitespace only', ' \t\r\n'],
      ['Unicode whitespace only (NBSP, ideographic space)', '\u00a0\u3000'],
      ['4001 ASCII characters', 'a'.repeat(4001)],
      ['4001 emoji', '😀'.repeat(4001)],
      ['a lone high surrogate', '\ud800'],
      ['text with a lone low surrogate', 'hi \udc00 there'],
      ['a number', 42],
      ['an array', ['hi']],
      ['an object', { text: 'hi' }],
    ])('rejects a message that is %s', (_label, message) => {
      expect(validationMessage({ message }, SendMessageDto)).toBe(MESSAGE_RULE);
    });

    it.each([
      ['1 character', 'c'],
      ['64 characters', 'c'.repeat(64)],
      ['a UUID', '3f2a3a1e-8a5e-4a3b-9d2c-0b6a1f0c2d4e'],
    ])('accepts a clientMsgId of %s', (_label, clientMsgId) => {
      expect(sut.transform({ message: 'hi', clientMsgId }, body(SendMessageDto))).toEqual({ message: 'hi', clientMsgId });
    });

    it.each([
      ['empty', ''],
      ['65 characters', 'c'.repeat(65)],
      ['a number', 7],
      ['a lone surrogate', '\ud800'],
    ])('rejects a clientMsgId that is %s', (_label, clientMsgId) => {
      expect(validationMessage({ message: 'hi', clientMsgId }, SendMessageDto)).toBe(CLIENT_MSG_ID_RULE);
    });

    it('treats a null clientMsgId as absent', () => {
      const dto = sut.transform({ message: 'hi', clientMsgId: null }, body(SendMessageDto));
      expect(dto).toEqual({ message: 'hi', clientMsgId: null });
    });

    it('accepts a room and rejects a bad one', () => {
      expect(sut.transform({ message: 'hi', room: 'dev' }, body(SendMessageDto))).toEqual({ message: 'hi', room: 'dev' });
      expect(validationMessage({ message: 'hi', room: 'no spaces' }, SendMessageDto)).toBe(ROOM_RULE);
    });

    it('names every bad field', () => {
      expect(validationMessage({ message: '', clientMsgId: '' }, SendMessageDto)).toBe(`${MESSAGE_RULE}; ${CLIENT_MSG_ID_RULE}`);
    });
  });

  describe(SetNicknameDto.name, () => {
    it.each(['alice', '张三', 'a.b-c_1', 'n'.repeat(32)])('accepts %j', (nickname) => {
      expect(sut.transform({ nickname }, body(SetNicknameDto))).toEqual({ nickname });
    });

    it.each([undefined, '', 'n'.repeat(33), 'a b', '<b>', '\u202eevil', '😀', 42])('rejects %j', (nickname) => {
      expect(validationMessage({ nickname }, SetNicknameDto)).toBe(NICKNAME_RULE);
    });
  });

  describe(HistoryQueryDto.name, () => {
    it('accepts an empty query', () => {
      expect(sut.transform({}, body(HistoryQueryDto))).toEqual({});
    });

    it('accepts the bounds', () => {
      expect(sut.transform({ limit: 1, before: 1, after: 0 }, body(HistoryQueryDto))).toEqual({ limit: 1, before: 1, after: 0 });
      expect(sut.transform({ limit: 200 }, body(HistoryQueryDto))).toEqual({ limit: 200 });
      const max = Number.MAX_SAFE_INTEGER;
      expect(sut.transform({ before: max, after: max }, body(HistoryQueryDto))).toEqual({ before: max, after: max });
      expect(sut.transform({ before: String(max), after: '0' }, body(HistoryQueryDto))).toEqual({ before: max, after: 0 });
    });

    it('converts numeric strings to numbers', () => {
      const dto = sut.transform({ limit: '20', before: '100', after: '7' }, body(HistoryQueryDto));
      expect(dto).toEqual({ limit: 20, before: 100, after: 7 });
    });

    it.each([
      [{ limit: 0 }, 'limit must not be less than 1'],
      [{ limit: 201 }, 'limit must not be greater than 200'],
      [{ limit: '201' }, 'limit must not be greater than 200'],
      [{ limit: 1.5 }, 'limit must be an integer number'],
      [{ before: 0 }, 'before must not be less than 1'],
      [{ before: -1 }, 'before must not be less than 1'],
      [{ before: '-1' }, 'before must not be less than 1'],
      [{ after: -1 }, 'after must not be less than 0'],
      [{ after: '-1' }, 'after must not be less than 0'],
      [{ after: 2.5 }, 'after must be an integer number'],
      [{ before: 1e20 }, 'before must not be greater than 9007199254740991'],
      [{ before: '100000000000000000000' }, 'before must not be greater than 9007199254740991'],
      [{ after: Number.MAX_SAFE_INTEGER + 1 }, 'after must not be greater than 9007199254740991'],
      [{ after: '9007199254740992' }, 'after must not be greater than 9007199254740991'],
    ])('rejects %j with %j', (query, message) => {
      expect(validationMessage(query, HistoryQueryDto)).toBe(message);
    });

    it.each([
      [{ before: 'abc' }, 'before'],
      [{ before: '1.5' }, 'before'],
      [{ after: '1e3' }, 'after'],
      [{ after: true }, 'after'],
      [{ limit: '' }, 'limit'],
      [{ limit: ' 5' }, 'limit'],
    ])('rejects the non-integer %j naming %s', (query, field) => {
      expect(validationMessage(query, HistoryQueryDto)).toContain(`${field} must be an integer number`);
    });

    it('strips unknown properties', () => {
      expect(sut.transform({ limit: 5, nickname: 'root' }, body(HistoryQueryDto))).toEqual({ limit: 5 });
    });

    it.each(['general', 'dev-ops_2.0', 'Café', 'r'.repeat(64)])('accepts the room %j', (room) => {
      expect(sut.transform({ room, limit: 5 }, body(HistoryQueryDto))).toEqual({ room, limit: 5 });
    });

    it.each(['', 'r'.repeat(65), 'a b', '#dev', '<b>', 42])('rejects the room %j', (room) => {
      expect(validationMessage({ room }, HistoryQueryDto)).toBe(ROOM_RULE);
    });
  });
});

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parseSendMessage, SendMessageDto } from './send-message.dto';

/** What class-transformer + class-validator make of `data`: the DTO, or undefined when they reject it. */
function byTheLibrary(data: object): SendMessageDto | undefined {
  const dto = plainToInstance(SendMessageDto, data);
  return validateSync(dto, { whitelist: true, forbidUnknownValues: true, stopAtFirstError: true }).length === 0 ? dto : undefined;
}

const TEXTS: unknown[] = [
  'hi',
  '  padded  ',
  'line\nbreak',
  'x'.repeat(4000),
  '😀'.repeat(4000),
  'e\u0301',
  'café 漢字 עברית',
  '\u200Bvisible after a zero-width space',
  'x'.repeat(4001),
  '😀'.repeat(4001),
  '',
  '   ',
  '\n\t',
  '\u200B\u200C',
  '\u3164',
  '\uFE0F',
  '\uD800',
  'lone \uDC00 surrogate',
  42,
  null,
  true,
  ['hi'],
  { text: 'hi' },
];
const IDS: unknown[] = [undefined, 'c-1', 'x'.repeat(64), '😀'.repeat(64), 'x'.repeat(65), '😀'.repeat(65), '', '\uD800', 7, null, ['c-1']];
const ROOMS: unknown[] = [undefined, 'general', 'team-α', 'r'.repeat(64), 'r'.repeat(65), 'two words', '', '#eng', 'a\u0301', 3, null, ['general']];

/** Every combination of the fields above, plus shapes only an attacker sends. */
function corpus(): object[] {
  const payloads: object[] = [];
  for (const message of TEXTS) {
    for (const clientMsgId of IDS) {
      for (const room of ROOMS) {
        const payload: Record<string, unknown> = { message };
        if (clientMsgId !== undefined) payload.clientMsgId = clientMsgId;
        if (room !== undefined) payload.room = room;
        payloads.push(payload);
      }
    }
  }
  payloads.push(
    {},
    { message: 'hi', extra: 1 },
    { message: 'hi', nickname: 'root' },
    JSON.parse('{"message":"hi","__proto__":{"polluted":true}}') as object,
    JSON.parse('{"message":"hi","constructor":{"prototype":{"polluted":true}}}') as object,
    Object.assign(Object.create(null) as object, { message: 'hi' }),
    Object.assign(Object.create({ inherited: 1 }) as object, { message: 'hi' }),
    { message: 'hi', room: undefined },
  );
  return payloads;
}

describe(parseSendMessage.name, () => {
  const payloads = corpus();

  it('sees a corpus with both outcomes', () => {
    expect(payloads.length).toBeGreaterThan(2500);
    expect(payloads.some((p) => parseSendMessage(p) !== undefined)).toBe(true);
    expect(payloads.some((p) => byTheLibrary(p) === undefined)).toBe(true);
  });

  it('accepts only what class-validator accepts, and returns the same DTO', () => {
    for (const payload of payloads) {
      const fast = parseSendMessage(payload);
      if (fast === undefined) continue;
      expect(fast).toBeInstanceOf(SendMessageDto);
      expect({ payload, dto: fast }).toEqual({ payload, dto: byTheLibrary(payload) });
    }
  });

  it('accepts every plainly valid payload: message, and optionally clientMsgId and room', () => {
    for (const payload of payloads) {
      const keys = Object.keys(payload);
      const plain = Object.getPrototypeOf(payload) === Object.prototype && keys.every((key) => ['message', 'clientMsgId', 'room'].includes(key));
      const values = Object.values(payload) as unknown[];
      if (plain && !values.includes(undefined) && !values.includes(null) && byTheLibrary(payload) !== undefined) {
        expect({ payload, fast: parseSendMessage(payload) }).toEqual({ payload, fast: byTheLibrary(payload) });
      }
    }
  });

  it.each([
    ['an undeclared property', { message: 'hi', extra: 1 }],
    ['a __proto__ key', JSON.parse('{"message":"hi","__proto__":{"polluted":true}}') as object],
    ['a null clientMsgId (@IsOptional lets class-validator decide)', { message: 'hi', clientMsgId: null }],
    ['an object without the plain prototype', Object.assign(Object.create(null) as object, { message: 'hi' })],
  ])('leaves %s to class-validator', (_label, payload) => {
    expect(parseSendMessage(payload)).toBeUndefined();
  });

  it('copies only the declared fields, so nothing else reaches the services', () => {
    const dto = parseSendMessage({ message: 'hi', clientMsgId: 'c-1', room: 'eng' });
    expect(dto).toEqual(Object.assign(new SendMessageDto(), { message: 'hi', clientMsgId: 'c-1', room: 'eng' }));
    expect(Object.keys(dto!).sort()).toEqual(['clientMsgId', 'message', 'room']);
  });
});

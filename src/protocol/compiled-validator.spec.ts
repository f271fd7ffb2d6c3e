import { Exclude, Expose, Transform, Type } from 'class-transformer';
import {
  Allow,
  IsDefined,
  IsInt,
  IsString,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { fastValidatorFor } from './compiled-validator';
import { DirectMessageDto } from './dto/direct-message.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { ResumeDto } from './dto/resume.dto';
import { RoomDto } from './dto/room.dto';
import { SendMessageDto } from './dto/send-message.dto';
import { SetNicknameDto } from './dto/set-nickname.dto';
import { validatePayload, validateSlowly } from './validate-payload';

type Dto = new () => object;
type Payload = Record<string, unknown>;
const ABSENT = Symbol('absent');

/** Every combination of the candidate values, a field left out where the candidate is ABSENT. */
function combinations(fields: Record<string, unknown[]>): Payload[] {
  let payloads: Payload[] = [{}];
  for (const [name, candidates] of Object.entries(fields)) {
    payloads = payloads.flatMap((payload) =>
      candidates.map((value) => (value === ABSENT ? { ...payload } : { ...payload, [name]: value })),
    );
  }
  return payloads;
}

/** Each payload as it is, with undeclared keys around it, and with a JSON "__proto__" key. */
function withExtras(payloads: Payload[]): Payload[] {
  return payloads.flatMap((payload) => {
    const fromJson = JSON.parse('{"__proto__":{"polluted":true}}') as Payload;
    for (const [key, value] of Object.entries(payload)) fromJson[key] = value;
    return [payload, { isAdmin: true, ...payload, nested: { a: 1 } }, fromJson];
  });
}

const message = [ABSENT, 'hi', '  hi \n', 'a'.repeat(4000), 'a'.repeat(4001), '', ' \t', '\ud800', 42, null, true, ['hi'], { text: 'hi' }];
const clientMsgId = [ABSENT, 'c1', 'c'.repeat(64), 'c'.repeat(65), '', 7, null, '\ud800'];
const room = [ABSENT, 'general', 'Café', 'a b', '', 'r'.repeat(65), 42, null];
const nickname = [ABSENT, 'alice', '张三', 'a b', '', 'n'.repeat(33), 42, null];
const paging = [ABSENT, 1, 200, 201, 0, '20', '-1', 1.5, 'abc', null];

const dtoPayloads: [string, Dto, Payload[]][] = (
  [
    [SendMessageDto, combinations({ message, clientMsgId, room })],
    [DirectMessageDto, combinations({ to: nickname, message, clientMsgId })],
    [RoomDto, combinations({ room })],
    [SetNicknameDto, combinations({ nickname })],
    [HistoryQueryDto, combinations({ room: room.slice(0, 5), before: paging.slice(0, 6), after: paging.slice(4), limit: paging })],
    [
      ResumeDto,
      combinations({
        since: [ABSENT, 0, 1, '12', -1, 1.5, '', null],
        rooms: [ABSENT, ['general'], 'general,eng', [], 'a b', 42, null],
      }),
    ],
  ] as [Dto, Payload[]][]
).map(([dtoClass, payloads]) => [dtoClass.name, dtoClass, payloads]);

/** The slow path's result, or the error it threw. */
function slowly(dtoClass: Dto, data: Payload): { dto?: object; error?: unknown } {
  try {
    return { dto: validateSlowly(dtoClass, data) };
  } catch (error) {
    return { error };
  }
}

function expectSameInstance(actual: object, expected: object): void {
  expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected));
  // Same keys in the same order, undefined values included.
  expect(Object.entries(actual)).toStrictEqual(Object.entries(expected));
}

describe(fastValidatorFor.name, () => {
  describe.each(dtoPayloads)('%s agrees with plainToInstance + validateSync', (_name, dtoClass, payloads) => {
    const sut = fastValidatorFor(dtoClass);

    it(`on ${payloads.length * 3} payloads`, () => {
      let accepted = 0;
      for (const payload of withExtras(payloads)) {
        const slow = slowly(dtoClass, payload);
        const fast = sut?.(payload);
        if (slow.error !== undefined) {
          expect({ payload, fast }).toEqual({ payload, fast: undefined });
          continue;
        }
        const declaredValues = Object.entries(payload).filter(([key]) => key !== 'isAdmin' && key !== 'nested');
        const primitives = declaredValues.every(([, value]) => typeof value !== 'object' || value === null);
        if (sut && primitives) {
          // A valid frame of plain values must not miss the fast path.
          expect({ payload, accepted: fast !== undefined }).toEqual({ payload, accepted: true });
          accepted++;
        }
        if (fast !== undefined) expectSameInstance(fast, slow.dto!);
        expectSameInstance(validatePayload(dtoClass, payload), slow.dto!);
      }
      if (sut) expect(accepted).toBeGreaterThan(0);
    });
  });

  it.each<Dto>([SendMessageDto, DirectMessageDto, RoomDto, SetNicknameDto])('compiles $name, which uses only plain rules', (dtoClass) => {
    expect(fastValidatorFor(dtoClass)).toEqual(expect.any(Function));
  });

  it.each<Dto>([HistoryQueryDto, ResumeDto])('leaves $name, whose @Transform needs class-transformer, to the slow path', (dtoClass) => {
    expect(fastValidatorFor(dtoClass)).toBeNull();
  });

  it('compiles once per class', () => {
    expect(fastValidatorFor(SendMessageDto)).toBe(fastValidatorFor(SendMessageDto));
  });

  it('does not take a payload that is not a plain object', () => {
    class Payload {
      message = 'hi';
    }
    expect(fastValidatorFor(SendMessageDto)!(new Payload())).toBeUndefined();
    expect(fastValidatorFor(SendMessageDto)!(Object.assign(Object.create(null) as object, { message: 'hi' }))).toEqual({ message: 'hi' });
  });

  describe('supported rules beyond the DTOs', () => {
    class WithDefined {
      @IsDefined()
      @IsString()
      name!: string;
    }

    class WithAllow {
      @Allow()
      note?: unknown;

      @ValidateIf((o: WithAllow) => o.note !== 'skip')
      @IsString()
      name!: string;
    }

    it.each([
      ['WithDefined', WithDefined, { name: 'x' }, [{}, { name: null }, { name: 1 }, { name: 'x', extra: 1 }]],
      ['WithAllow', WithAllow, { note: 'skip' }, [{ name: 'x' }, { note: 1 }, { note: 'skip', name: 1 }, { note: { a: 1 }, name: 'x' }, { name: 2 }]],
    ] as [string, Dto, Payload, Payload[]][])('%s agrees with the slow path', (_name, dtoClass, valid, payloads) => {
      const sut = fastValidatorFor(dtoClass);
      expect(sut).toEqual(expect.any(Function));
      for (const payload of [valid, ...payloads]) {
        const slow = slowly(dtoClass, payload);
        const fast = sut!(payload);
        if (slow.error !== undefined) expect(fast).toBeUndefined();
        else if (fast !== undefined) expectSameInstance(fast, slow.dto!);
      }
      expect(sut!(valid)).toBeInstanceOf(dtoClass);
    });

    it('leaves a declared object or array value to class-transformer, which copies it', () => {
      const note = { a: 1 };
      expect(fastValidatorFor(WithAllow)!({ note, name: 'x' })).toBeUndefined();
      expect(fastValidatorFor(WithAllow)!({ note: [1], name: 'x' })).toBeUndefined();
      const dto = validatePayload(WithAllow, { note, name: 'x' });
      expect(dto.note).toEqual(note);
      expect(dto.note).not.toBe(note);
    });
  });

  describe('unsupported metadata falls back', () => {
    @ValidatorConstraint({ async: true })
    class AsyncRule implements ValidatorConstraintInterface {
      validate(): Promise<boolean> {
        return Promise.resolve(true);
      }
    }

    class Inner {
      @IsString()
      a!: string;
    }

    class WithAsync {
      @Validate(AsyncRule)
      name!: string;
    }

    class WithNested {
      @ValidateNested()
      inner!: Inner;
    }

    class WithEach {
      @IsString({ each: true })
      tags!: string[];
    }

    class WithGroups {
      @IsString({ groups: ['admin'] })
      name!: string;
    }

    class WithValidateIfOption {
      @IsString({ validateIf: () => true })
      name!: string;
    }

    class WithType {
      @Type(() => Number)
      @IsInt()
      n!: number;
    }

    class WithTransform {
      @Transform(({ value }: { value: unknown }) => value)
      @IsString()
      name!: string;
    }

    class WithExpose {
      @Expose({ name: 'n' })
      @IsString()
      name!: string;
    }

    @Exclude()
    class WithExclude {
      @IsString()
      name!: string;
    }

    class WithTransformSubclass extends WithTransform {
      @IsString()
      other!: string;
    }

    class WithNothing {
      name?: string;
    }

    class WithGetter {
      @IsString()
      get name(): string {
        return 'fixed';
      }
    }

    class WithUndeclaredField {
      @IsString()
      name!: string;

      internal = 1;
    }

    it.each([
      WithAsync,
      WithNested,
      WithEach,
      WithGroups,
      WithValidateIfOption,
      WithType,
      WithTransform,
      WithExpose,
      WithExclude,
      WithTransformSubclass,
      WithNothing,
      WithGetter,
      WithUndeclaredField,
    ] as Dto[])('for $name', (dtoClass) => {
      expect(fastValidatorFor(dtoClass)).toBeNull();
    });

    it('and validatePayload still answers as class-validator does', () => {
      expect(validatePayload(WithExpose, { n: 'x' })).toEqual({ name: 'x' });
      expect(validatePayload(WithUndeclaredField, { name: 'x', internal: 2 })).toEqual({ name: 'x' });
      expect(() => validatePayload(WithNothing, { name: 'x' })).toThrow('an unknown value was passed to the validate function');
    });
  });
});

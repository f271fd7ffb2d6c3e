import { Transform } from 'class-transformer';
import { IsInt, Max, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { brokenNicknameRule, NICKNAME_RULE } from '../nickname';
import { isValidRoomName, ROOM_NAME_RULE } from '../room-name';

export const MAX_MESSAGE_CHARS = 4000;

const DECIMAL = /^-?\d+$/;

/** Query strings carry text: decimal integers ("12", "007", "-1") become numbers, anything else is left for @IsInt to reject. */
export function toInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
}

/**
 * An integer from `min` to `max` (at most Number.MAX_SAFE_INTEGER, beyond which ids are not
 * exact), sent as a JSON number or as decimal text: one rule and the same error text for both.
 * With stopAtFirstError, only the first rule that fails is reported, in the order registered here:
 * "must be an integer number", "must not be greater than", "must not be less than".
 */
export function IsIntegerIn(min: number, max: number = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  return (target, key) => {
    const property = key as string;
    IsInt()(target, property);
    Max(max)(target, property);
    Min(min)(target, property);
    Transform(toInteger)(target, property);
  };
}

function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * A character that shows: not whitespace, not a control or format character, not default-ignorable
 * (zero-width characters, bidi controls, Hangul fillers, variation selectors), not the blank
 * Braille pattern; the prepended concatenation marks (Arabic number signs) are format characters
 * that do show.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]|[\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}]/u;

/** 1 to 4000 code points, at least one of them not whitespace, no lone surrogates. */
function isChatTextShape(value: unknown): value is string {
  if (typeof value !== 'string' || !isWellFormed(value) || !/\S/u.test(value)) return false;
  let count = 0;
  for (const _ of value) {
    if (++count > MAX_MESSAGE_CHARS) return false;
  }
  return true;
}

/** The chat text rule: its shape, and at least one visible character. */
export function isChatText(value: unknown): value is string {
  return isChatTextShape(value) && VISIBLE.test(value);
}

/** 1 to 4000 code points, at least one of them not whitespace and one visible, no lone surrogates. */
export function IsChatText(options?: ValidationOptions): PropertyDecorator {
  const shape = isChatTextShape;
  return ValidateBy(
    {
      name: 'isChatText',
      validator: {
        validate: isChatText,
        defaultMessage: (args) =>
          shape(args?.value)
            ? '$property must have at least one visible character'
            : `$property must be a string of 1 to ${MAX_MESSAGE_CHARS} characters with at least one that is not whitespace`,
      },
    },
    options,
  );
}

/** The nickname rule; a name of mixed scripts gets its own message. */
export function IsNickname(options?: ValidationOptions): PropertyDecorator {
  const broken = (value: unknown): string | undefined => (typeof value === 'string' ? brokenNicknameRule(value) : `be ${NICKNAME_RULE}`);
  return ValidateBy(
    {
      name: 'isNickname',
      validator: {
        validate: (value: unknown) => broken(value) === undefined,
        defaultMessage: (args) => `$property must ${broken(args?.value) ?? `be ${NICKNAME_RULE}`}`,
      },
    },
    options,
  );
}

export function isRoomName(value: unknown): value is string {
  return typeof value === 'string' && isValidRoomName(value);
}

export function IsRoomName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isRoomName',
      validator: {
        validate: isRoomName,
        defaultMessage: () => `$property must be ${ROOM_NAME_RULE}`,
      },
    },
    options,
  );
}

/** A client-chosen correlation id: 1 to 64 characters of well-formed text. */
export function isClientMsgId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && [...value].length <= 64 && isWellFormed(value);
}

export function IsClientMsgId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isClientMsgId',
      validator: {
        validate: isClientMsgId,
        defaultMessage: () => '$property must be a string of 1 to 64 characters',
      },
    },
    options,
  );
}

/** The longest user id the store keeps (`users.id`, the token's `sub`). */
export const MAX_USER_ID_CHARS = 255;

/** A user named by id or nickname: 1 to 255 characters of well-formed text, not all whitespace. */
export function isUserRef(value: unknown): value is string {
  return typeof value === 'string' && /\S/u.test(value) && [...value].length <= MAX_USER_ID_CHARS && isWellFormed(value);
}

export function IsUserRef(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isUserRef',
      validator: {
        validate: isUserRef,
        defaultMessage: () => `$property must be a user id or nickname of 1 to ${MAX_USER_ID_CHARS} characters`,
      },
    },
    options,
  );
}

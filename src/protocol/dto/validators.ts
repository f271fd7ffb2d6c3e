import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isValidNickname, NICKNAME_RULE } from '../nickname';
import { isValidRoomName, ROOM_NAME_RULE } from '../room-name';

export const MAX_MESSAGE_CHARS = 4000;

function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** 1 to 4000 code points, at least one of them not whitespace, no lone surrogates. */
export function IsChatText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isChatText',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || !isWellFormed(value) || !/\S/u.test(value)) {
            return false;
          }
          let count = 0;
          for (const _ of value) {
            if (++count > MAX_MESSAGE_CHARS) return false;
          }
          return true;
        },
        defaultMessage: () =>
          `$property must be a string of 1 to ${MAX_MESSAGE_CHARS} characters with at least one that is not whitespace`,
      },
    },
    options,
  );
}

export function IsNickname(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNickname',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidNickname(value),
        defaultMessage: () => `$property must be ${NICKNAME_RULE}`,
      },
    },
    options,
  );
}

export function IsRoomName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isRoomName',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidRoomName(value),
        defaultMessage: () => `$property must be ${ROOM_NAME_RULE}`,
      },
    },
    options,
  );
}

/** A client-chosen correlation id: 1 to 64 characters of well-formed text. */
export function IsClientMsgId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isClientMsgId',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length >= 1 && [...value].length <= 64 && isWellFormed(value),
        defaultMessage: () => '$property must be a string of 1 to 64 characters',
      },
    },
    options,
  );
}

/** 1 to 64 Unicode letters (with their combining marks), decimal digits, `_`, `-` or `.`. */
const ROOM_NAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]*$/u;

export const ROOM_NAME_RULE = '1 to 64 letters, digits, "_", "-" or "."';

export function isValidRoomName(value: string): boolean {
  return ROOM_NAME.test(value) && [...value].length <= 64;
}

/** 1 to 64 Unicode letters (with their combining marks), decimal digits, `_`, `-` or `.`. */
const ROOM_NAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]*$/u;
/**
 * Letters and marks that draw nothing (Hangul fillers, variation selectors, U+034F): "general"
 * with one of them appended looks exactly like "general" but is another room, so a room could be
 * passed off as a well-known one. The nickname rule refuses the same characters.
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

export const ROOM_NAME_RULE = '1 to 64 letters, digits, "_", "-" or "."';

export function isValidRoomName(value: string): boolean {
  return ROOM_NAME.test(value) && [...value].length <= 64 && !INVISIBLE.test(value);
}

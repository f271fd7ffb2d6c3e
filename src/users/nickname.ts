/** 1 to 32 Unicode letters (with their combining marks), decimal digits, `_`, `-` or `.`. */
const NICKNAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]{0,31}$/u;

export const NICKNAME_RULE = '1 to 32 letters, digits, "_", "-" or "."';

export function isValidNickname(value: string): boolean {
  return NICKNAME.test(value) && [...value].length <= 32;
}

/**
 * Nicknames are unique ignoring case and compatibility forms ("Ａlice" and "alice" clash).
 * Upper- then lower-casing folds letters that lower-case alone keeps apart (Greek final sigma).
 */
export function nicknameKey(nickname: string): string {
  return nickname.normalize('NFKC').toUpperCase().toLowerCase();
}

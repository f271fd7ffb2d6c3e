/** 1 to 32 Unicode letters (with their combining marks), decimal digits, `_`, `-` or `.`. */
const NICKNAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]{0,31}$/u;

export const NICKNAME_RULE = '1 to 32 letters, digits, "_", "-" or "."';

export function isValidNickname(value: string): boolean {
  return NICKNAME.test(value) && [...value].length <= 32;
}

/**
 * Nicknames are unique ignoring case and compatibility forms ("Ａlice" and "alice" clash).
 * lower -> upper -> lower folds what one mapping alone keeps apart (Greek final sigma, capital
 * sharp s); the final NFKC recomposes what case mapping decomposed (Greek "ΐ").
 */
export function nicknameKey(nickname: string): string {
  return nickname.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/** Every key under which `nickname` is taken while its holder is online; the first is nicknameKey(). */
export function nicknameKeys(nickname: string): string[] {
  return [nicknameKey(nickname)];
}

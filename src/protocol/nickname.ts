import { isHighlyRestrictive, skeleton } from './confusables';

/** 1 to 32 Unicode letters (with their combining marks), decimal digits, `_`, `-` or `.`. */
const NICKNAME = /^[\p{L}\p{Nd}_.-][\p{L}\p{M}\p{Nd}_.-]{0,31}$/u;
/** Letters and marks that draw nothing: Hangul fillers (U+3164, U+115F, U+1160, U+FFA0), variation selectors, U+034F. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

export const NICKNAME_RULE = '1 to 32 letters, digits, "_", "-" or "."';
export const NICKNAME_SCRIPT_RULE = 'use one script (Latin may be mixed only with Chinese, Japanese or Korean)';

/** The rule `value` breaks as a nickname (to follow "must be" or "must"), or undefined when it is one. */
export function brokenNicknameRule(value: string): string | undefined {
  if (!NICKNAME.test(value) || [...value].length > 32 || INVISIBLE.test(value)) return `be ${NICKNAME_RULE}`;
  if (!isHighlyRestrictive(value)) return NICKNAME_SCRIPT_RULE;
  return undefined;
}

export function isValidNickname(value: string): boolean {
  return brokenNicknameRule(value) === undefined;
}

/**
 * Nicknames are unique ignoring case and compatibility forms ("Ａlice" and "alice" clash).
 * lower -> upper -> lower folds what one mapping alone keeps apart (Greek final sigma, capital
 * sharp s); the final NFKC recomposes what case mapping decomposed (Greek "ΐ").
 */
export function nicknameKey(nickname: string): string {
  return nickname.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/**
 * Every key under which `nickname` is taken while its holder is online; the first is nicknameKey().
 * Two names clash when they share any key: the same name ignoring case, or look-alikes by their
 * UTS #39 skeletons as typed ("aIice" with a capital I, "аӀісе" in Cyrillic), folded after the
 * skeleton ("AIice" looks like "Alice") or before it ("MODERN" folds to "modern", which looks like
 * "rnodern").
 */
export function nicknameKeys(nickname: string): string[] {
  const key = nicknameKey(nickname);
  const looks = skeleton(nickname);
  return [...new Set([key, looks, nicknameKey(looks), skeleton(key)])];
}

// Unicode Technical Standard #39 (Unicode Security Mechanisms), the two parts nicknames need:
// the confusable skeleton of §4 and the "Highly Restrictive" restriction level of §5.2.
// https://www.unicode.org/reports/tr39/
import { createRequire } from 'node:module';

/**
 * confusables.txt as a map from a source character to its prototype ("а" (Cyrillic) -> "a",
 * "I" -> "l", "m" -> "rn"). unhomoglyph ships it as JSON and nothing else; its own function is not
 * the full skeleton (no normalisation, no ignorables), so only the data is used.
 */
const PROTOTYPES: ReadonlyMap<string, string> = new Map(
  Object.entries(createRequire(__filename)('unhomoglyph/data.json') as Record<string, string>),
);

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * UTS #39 §4 internalSkeleton: NFD, drop default-ignorable code points, replace each character by
 * its prototype, NFD again. Two strings are confusable when their skeletons are equal; a skeleton
 * is a comparison key only, never shown.
 */
export function skeleton(text: string): string {
  let mapped = '';
  for (const char of text.normalize('NFD')) {
    if (!DEFAULT_IGNORABLE.test(char)) mapped += PROTOTYPES.get(char) ?? char;
  }
  return mapped.normalize('NFD');
}

// Every script (ISO 15924 code) of Unicode 17; a code this Node's RegExp does not know yet is
// skipped, and its letters then fail isHighlyRestrictive, which is the safe side.
const SCRIPT_CODES =
  'Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Bopo Brah Brai Bugi Buhd Cakm Cans Cari Cham ' +
  'Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek ' +
  'Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda ' +
  'Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi ' +
  'Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm ' +
  'Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sidt Sind Sinh Sogd Sogo Sora Soyo ' +
  'Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto ' +
  'Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb';

/** The scripts this Node's RegExp knows, each with a test for one of its characters. */
export const KNOWN_SCRIPTS: ReadonlyMap<string, RegExp> = new Map(
  SCRIPT_CODES.split(' ').flatMap((code): Array<[string, RegExp]> => {
    try {
      return [[code, new RegExp(`^\\p{scx=${code}}$`, 'u')]];
    } catch {
      return [];
    }
  }),
);

/** A string made only of characters of these scripts, or of Common and Inherited ones (digits, "_", combining marks). */
function coveredBy(codes: readonly string[]): RegExp {
  return new RegExp(`^[${codes.map((code) => `\\p{scx=${code}}`).join('')}\\p{scx=Zyyy}\\p{scx=Zinh}]*$`, 'u');
}

const COMMON_OR_INHERITED = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;
/** The mixes §5.2 allows beyond a single script: Latin with Japanese, with Chinese and Bopomofo, with Korean. */
const ALLOWED_MIXES = [['Latn', 'Hani', 'Hira', 'Kana'], ['Latn', 'Hani', 'Bopo'], ['Latn', 'Hani', 'Hang']].map(coveredBy);
const SINGLE_SCRIPT = new Map<string, RegExp>();

/**
 * UTS #39 §5.2 "Highly Restrictive": every letter from one script, or Latin mixed only with Han
 * and Japanese kana, with Han and Bopomofo, or with Han and Hangul. So "pаypal" with a Cyrillic
 * "а" fails, while "Ελένη", "张三", "たなかTanaka" and "guest_42" pass. (Not checked: §5.2's
 * Identifier_Status condition; the nickname pattern narrows characters instead.)
 */
export function isHighlyRestrictive(text: string): boolean {
  if (ALLOWED_MIXES.some((mix) => mix.test(text))) return true;
  const first = [...text].find((char) => !COMMON_OR_INHERITED.test(char));
  if (first === undefined) return true;
  // Only a script of the first letter can cover the whole string.
  for (const [code, test] of KNOWN_SCRIPTS) {
    if (!test.test(first)) continue;
    let single = SINGLE_SCRIPT.get(code);
    if (!single) SINGLE_SCRIPT.set(code, (single = coveredBy([code])));
    if (single.test(text)) return true;
  }
  return false;
}

/**
 * File names that survive a case-insensitive or normalising file system (APFS and HFS+ on macOS,
 * exFAT, NTFS): two keys that differ only in case (`Photo`, `photo`) or Unicode form (NFC `é`,
 * NFD `e`+U+0301) would be one file there, and a prune of one deletes the other.
 *
 * The encoding is reversible and its output is stable under case folding and Unicode
 * normalisation, so distinct keys stay distinct files:
 * - `~` is written `~~` (the escape character);
 * - an ASCII capital is written `~` + its small letter (`Photo` -> `~photo`), when case folds;
 * - a character that case folding or normalisation could change (other capitals, precomposed or
 *   combining characters, Hangul jamo, `ſ`...) is written `~{hex}` (its code point), when the
 *   file system folds that way;
 * - everything else (ASCII small letters, digits, punctuation, most scripts) is kept as is.
 */

/** How a file system folds names, as probed (see probeFolding). */
export interface Folding {
  /** `A` and `a` name one file. */
  readonly case: boolean;
  /** NFC and NFD forms of a name name one file. */
  readonly unicode: boolean;
}

/** A file system that keeps every name as given. */
export const NO_FOLDING: Folding = { case: false, unicode: false };

const ESC = '~';

/** Whether a character could be changed by Unicode normalisation (or combine with a neighbour). */
const unicodeUnstable = (c: string): boolean => {
  const cp = c.codePointAt(0) as number;
  return c.normalize('NFD') !== c || c.normalize('NFC') !== c || /\p{M}/u.test(c) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f);
};

/** Whether case folding could map a character to another one. */
const caseUnstable = (c: string): boolean => c.toLowerCase() !== c || c.toUpperCase().toLowerCase() !== c;

/** Encodes one key (all its segments) so that the folding cannot merge two keys. */
export const encodeName = (key: string, folding: Folding): string => {
  if (!folding.case && !folding.unicode) return key;
  let out = '';
  for (const c of key) {
    if (c === ESC) out += ESC + ESC;
    else if (folding.case && c >= 'A' && c <= 'Z') out += ESC + c.toLowerCase();
    else if (c.charCodeAt(0) < 0x80) out += c;
    else if ((folding.case && caseUnstable(c)) || (folding.unicode && unicodeUnstable(c))) out += `${ESC}{${(c.codePointAt(0) as number).toString(16)}}`;
    else out += c;
  }
  return out;
};

/**
 * Decodes a name written by encodeName; undefined when the name is not one it writes (a file
 * put there by something else, or by a version without this encoding), so that such a file is
 * never mistaken for, or deleted as, another key's.
 */
export const decodeName = (name: string, folding: Folding): string | undefined => {
  if (!folding.case && !folding.unicode) return name;
  let out = '';
  for (let i = 0; i < name.length; i += 1) {
    const c = name[i] as string;
    if (c !== ESC) {
      out += c;
      continue;
    }
    const next = name[i + 1];
    if (next === ESC) {
      out += ESC;
      i += 1;
    } else if (next === '{') {
      const end = name.indexOf('}', i + 2);
      const cp = end < 0 ? NaN : parseInt(name.slice(i + 2, end), 16);
      if (!Number.isInteger(cp) || cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i = end;
    } else if (next !== undefined && next >= 'a' && next <= 'z' && folding.case) {
      out += next.toUpperCase();
      i += 1;
    } else {
      return undefined;
    }
  }
  return encodeName(out, folding) === name ? out : undefined;
};

/** The name a folding file system files `name` under (for comparing two names). */
export const foldedName = (name: string, folding: Folding): string => {
  const n = folding.unicode ? name.normalize('NFD') : name;
  return folding.case ? n.toLowerCase() : n;
};

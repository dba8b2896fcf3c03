import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, endOfDigits, isDigitCode, isLowerCode, sign } from './text.js';

/**
 * Alpine package versions, ordered like apk-tools (2.14 / 3.x `version.c`):
 * `digit{.digit}...{letter}{_suffix{number}}...{~commit}{-rN}`.
 *
 * The version is read as a sequence of typed tokens. Tokens of the same type compare by value (numbers numerically,
 * except that a dotted component with a leading zero compares as a string like Gentoo's; letters and commit hashes
 * as strings; suffixes by rank). When one version runs out of tokens, or the two differ in token type, the type
 * decides: a pre-release suffix (`_alpha` `_beta` `_pre` `_rc`) sorts before anything, otherwise the token that
 * comes earlier in the grammar is the greater version (so `1.0.1 > 1.0_p1 > 1.0-r1 > 1.0`).
 */

/** Token types in grammar order; the numeric order is significant (see the final decision in `compareApk`). */
const enum Token {
  InitialDigit = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNumber = 4,
  CommitHash = 5,
  RevisionNumber = 6,
  End = 7,
  Invalid = 8,
}

/** Suffix ranks; everything below `None` is a pre-release. */
const SUFFIX_RANK: ReadonlyMap<string, number> = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  // 5 is "no suffix"
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);
const SUFFIX_NONE = 5;

function isHexCode(c: number): boolean {
  return isDigitCode(c) || (c >= 0x61 && c <= 0x66);
}

/** A cursor over one version string that yields apk tokens one at a time. */
class ApkTokenizer {
  type: Token = Token.InitialDigit;
  /** The token's text: digits, a letter, a suffix name or a commit hash. */
  value = '';
  suffixRank = 0;
  private pos = 0;

  constructor(private readonly text: string) {
    this.readDigits();
  }

  private readDigits(): void {
    const end = endOfDigits(this.text, this.pos);
    this.value = this.text.slice(this.pos, end);
    this.pos = end;
    if (this.value === '') this.type = Token.Invalid;
  }

  private readWhile(test: (c: number) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && test(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  next(): void {
    if (this.type >= Token.End) return;
    const s = this.text;
    if (this.pos >= s.length) {
      this.type = Token.End;
      return;
    }
    const c = s.charCodeAt(this.pos);
    if (isLowerCode(c)) {
      if (this.type > Token.Digit) return this.invalid();
      this.value = s[this.pos] ?? '';
      this.type = Token.Letter;
      this.pos++;
    } else if (c === 0x2e /* . */ || isDigitCode(c)) {
      if (c === 0x2e) {
        if (this.type > Token.Digit) return this.invalid();
        this.pos++;
      }
      if (this.type === Token.InitialDigit || this.type === Token.Digit) this.type = Token.Digit;
      else if (this.type === Token.Suffix) this.type = Token.SuffixNumber;
      else return this.invalid();
      this.readDigits();
    } else if (c === 0x5f /* _ */) {
      if (this.type > Token.SuffixNumber) return this.invalid();
      this.pos++;
      this.value = this.readWhile(isLowerCode);
      const rank = SUFFIX_RANK.get(this.value);
      if (rank === undefined) return this.invalid();
      this.suffixRank = rank;
      this.type = Token.Suffix;
    } else if (c === 0x7e /* ~ */) {
      if (this.type >= Token.CommitHash) return this.invalid();
      this.pos++;
      this.value = this.readWhile(isHexCode);
      if (this.value === '') return this.invalid();
      this.type = Token.CommitHash;
    } else if (c === 0x2d /* - */) {
      if (this.type >= Token.RevisionNumber || s.charCodeAt(this.pos + 1) !== 0x72 /* r */) return this.invalid();
      this.pos += 2;
      this.type = Token.RevisionNumber;
      this.readDigits();
    } else {
      this.invalid();
    }
  }

  private invalid(): void {
    this.type = Token.Invalid;
  }
}

/** apk's `apk_blob_sort`: bytes first, then the shorter string first. */
function compareAsStrings(a: string, b: string): number {
  return compareCodeUnits(a, b);
}

function compareSameType(a: ApkTokenizer, b: ApkTokenizer): number {
  switch (a.type) {
    case Token.Digit:
      if (a.value.charCodeAt(0) === 0x30 || b.value.charCodeAt(0) === 0x30) return compareAsStrings(a.value, b.value);
      return compareDigitRuns(a.value, b.value);
    case Token.InitialDigit:
    case Token.SuffixNumber:
    case Token.RevisionNumber:
      return compareDigitRuns(a.value, b.value);
    case Token.Letter:
      return sign(a.value.charCodeAt(0) - b.value.charCodeAt(0));
    case Token.Suffix:
      return sign(a.suffixRank - b.suffixRank);
    default:
      return compareAsStrings(a.value, b.value);
  }
}

/** apk-tools' comparison, without the tie-break for invalid versions. */
function compareApkTokens(a: string, b: string): { order: number; invalid: boolean } {
  const ta = new ApkTokenizer(a);
  const tb = new ApkTokenizer(b);
  while (ta.type === tb.type && ta.type < Token.End) {
    const order = compareSameType(ta, tb);
    if (order !== 0) return { order, invalid: false };
    ta.next();
    tb.next();
  }
  if (ta.type === tb.type) return { order: 0, invalid: ta.type === Token.Invalid };
  if (ta.type === Token.Suffix && ta.suffixRank < SUFFIX_NONE) return { order: -1, invalid: false };
  if (tb.type === Token.Suffix && tb.suffixRank < SUFFIX_NONE) return { order: 1, invalid: false };
  return { order: ta.type > tb.type ? -1 : 1, invalid: false };
}

/**
 * Orders two apk versions. Where apk-tools itself calls two malformed versions equal (both become invalid at the
 * same point after identical tokens), the raw strings break the tie so that sorting stays deterministic.
 */
export function compareApkVersions(a: string, b: string): number {
  const { order, invalid } = compareApkTokens(a, b);
  if (order === 0 && invalid) return compareCodeUnits(a, b);
  return order;
}

/** apk's `apk_version_validate`: the whole string reads as tokens up to the end. */
export function isValidApkVersion(version: string): boolean {
  const t = new ApkTokenizer(version);
  while (t.type < Token.End) t.next();
  return t.type === Token.End;
}

export const apkVersions: VersionComparator = {
  scheme: 'apk',
  compare: compareApkVersions,
  valid: isValidApkVersion,
};

import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, incrementDigitRun, isAlnumCode, isDigits } from './text.js';
import { MAX_SEMVER_CHARS } from '../limits.js';

/**
 * Semantic Versioning 2.0.0 (semver.org §11) and npm's range grammar (node-semver 7).
 *
 * Ordering: major.minor.patch numerically; a pre-release (`-alpha.1`) sorts before its release; pre-release
 * identifiers compare left to right, numeric ones numerically and before alphanumeric ones, alphanumeric ones by
 * ASCII; a shorter identifier list sorts first when all shared identifiers are equal; `+build` metadata is ignored.
 *
 * `compare` is lenient so that the same comparator serves crates.io and Packagist: a leading `v`/`V`/`=` and
 * surrounding blanks are ignored, and any number of numeric components is accepted (`1.2` = `1.2.0`,
 * `1.2.3.4` > `1.2.3`; missing components count as 0). Strings that are not versions at all sort before every
 * version, among themselves by their raw text. `valid` is strict SemVer (with an optional leading `v`).
 */

export interface SemVer {
  /** Digit strings, never converted to numbers (no precision limit). */
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string[];
}

function isIdentifier(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnumCode(c) && c !== 0x2d /* - */) return false;
  }
  return true;
}

/** Numeric identifiers must not have leading zeros (SemVer §2, §9). */
function isCanonicalNumber(s: string): boolean {
  return isDigits(s) && (s.length === 1 || s.charCodeAt(0) !== 0x30);
}

/** node-semver's limits: versions up to `MAX_SEMVER_CHARS` characters, major/minor/patch up to Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_INTEGER = String(Number.MAX_SAFE_INTEGER);

function isVersionNumber(s: string): boolean {
  return isCanonicalNumber(s) && compareDigitRuns(s, MAX_SAFE_INTEGER) <= 0;
}

function splitVersionText(version: string): { main: string; prerelease: string | null; build: string | null } {
  let rest = version;
  let build: string | null = null;
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  let prerelease: string | null = null;
  const hyphen = rest.indexOf('-');
  if (hyphen >= 0) {
    prerelease = rest.slice(hyphen + 1);
    rest = rest.slice(0, hyphen);
  }
  return { main: rest, prerelease, build };
}

/**
 * Strict SemVer 2.0.0 with an optional leading `v`, surrounding blanks trimmed, within node-semver's limits (256
 * characters, numbers up to 2^53 - 1); `null` if it is not one.
 */
export function parseSemver(version: string): SemVer | null {
  if (version.length > MAX_SEMVER_CHARS) return null;
  let text = version.trim();
  if (text.startsWith('v')) text = text.slice(1);
  const { main, prerelease, build } = splitVersionText(text);
  const parts = main.split('.');
  if (parts.length !== 3 || !parts.every(isVersionNumber)) return null;
  const pre = prerelease === null ? [] : prerelease.split('.');
  if (!pre.every((id) => isIdentifier(id) && (!isDigits(id) || isCanonicalNumber(id)))) return null;
  const meta = build === null ? [] : build.split('.');
  if (!meta.every(isIdentifier)) return null;
  const [major = '0', minor = '0', patch = '0'] = parts;
  return { major, minor, patch, prerelease: pre, build: meta };
}

interface LenientVersion {
  release: string[];
  prerelease: string[];
}

function parseLenient(version: string): LenientVersion | null {
  let text = version.trim();
  while (text.startsWith('=')) text = text.slice(1);
  if (text.startsWith('v') || text.startsWith('V')) text = text.slice(1);
  const { main, prerelease } = splitVersionText(text);
  const release = main.split('.');
  if (!release.every(isDigits)) return null;
  const pre = prerelease === null ? [] : prerelease.split('.');
  if (!pre.every(isIdentifier)) return null;
  return { release, prerelease: pre };
}

/** Pre-release identifier lists; an empty list (a release) is greater than any non-empty one. */
export function comparePrerelease(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    const xNumeric = isDigits(x);
    const yNumeric = isDigits(y);
    let order: number;
    if (xNumeric && yNumeric) order = compareDigitRuns(x, y);
    else if (xNumeric !== yNumeric) order = xNumeric ? -1 : 1;
    else order = compareCodeUnits(x, y);
    if (order !== 0) return order;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareRelease(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const order = compareDigitRuns(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return 0;
}

function compareLenient(a: LenientVersion, b: LenientVersion): number {
  return compareRelease(a.release, b.release) || comparePrerelease(a.prerelease, b.prerelease);
}

export function compareSemver(a: string, b: string): number {
  const va = parseLenient(a);
  const vb = parseLenient(b);
  if (va && vb) return compareLenient(va, vb);
  if (va || vb) return va ? 1 : -1;
  return compareCodeUnits(a, b);
}

export function compareParsedSemver(a: SemVer, b: SemVer): number {
  return (
    compareDigitRuns(a.major, b.major) ||
    compareDigitRuns(a.minor, b.minor) ||
    compareDigitRuns(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

export const semverVersions: VersionComparator = {
  scheme: 'semver',
  compare: compareSemver,
  valid: (version) => parseSemver(version) !== null,
};

// ---------------------------------------------------------------------------------------------------------------
// npm ranges

export type RangeOperator = '<' | '<=' | '>' | '>=' | '=';

/** One primitive comparator after desugaring; `any` matches every version (`*`, `x`, an empty set). */
export type NpmComparator = { op: RangeOperator; version: SemVer } | { op: 'any' };

/** Comparator sets joined by `||`; inside a set every comparator must hold. */
export type NpmRange = NpmComparator[][];

export interface NpmRangeOptions {
  /**
   * node-semver's `includePrerelease`: without it a pre-release version only satisfies a set that names a
   * pre-release of the same major.minor.patch (so `1.3.0-beta` does not satisfy `<2.0.0`).
   */
  includePrerelease?: boolean;
}

/** A partial version as written in a range: `1`, `1.2`, `1.x`, `*`, `1.2.3-beta.1`. `null` parts are wildcards. */
interface PartialVersion {
  major: string | null;
  minor: string | null;
  patch: string | null;
  prerelease: string[];
}

function isWildcard(part: string): boolean {
  return part === 'x' || part === 'X' || part === '*';
}

/** node-semver's XRANGEPLAIN: `[v=\s]*` then up to three dotted parts, a pre-release/build only on full versions. */
function parsePartial(text: string): PartialVersion | null {
  if (text.length > MAX_SEMVER_CHARS) return null;
  let i = 0;
  while (i < text.length && (text[i] === 'v' || text[i] === '=' || text[i] === ' ' || text[i] === '\t')) i++;
  const { main, prerelease, build } = splitVersionText(text.slice(i));
  const parts = main.split('.');
  if (parts.length > 3 || parts.some((p) => !isWildcard(p) && !isVersionNumber(p))) return null;
  const [major, minor, patch] = parts.map((p) => (isWildcard(p) ? null : p));
  if ((prerelease !== null || build !== null) && (parts.length < 3 || major == null || minor == null || patch == null)) {
    return null;
  }
  const pre = prerelease === null ? [] : prerelease.split('.');
  if (!pre.every(isIdentifier)) return null;
  if (build !== null && !build.split('.').every(isIdentifier)) return null;
  return { major: major ?? null, minor: minor ?? null, patch: patch ?? null, prerelease: pre };
}

function semver(major: string, minor: string, patch: string, prerelease: string[] = []): SemVer {
  return { major, minor, patch, prerelease, build: [] };
}

/** `-0`: the lowest pre-release of a version, so `<2.0.0-0` excludes every 2.0.0 pre-release. */
const LOWEST = ['0'];

type Op = RangeOperator | '' | '~' | '^';

/** Desugars one comparator (node-semver's replaceTilde / replaceCaret / replaceXRange) into primitives. */
function desugar(op: Op, v: PartialVersion, includePrerelease: boolean): NpmComparator[] {
  const { major: M, minor: m, patch: p, prerelease: pr } = v;
  const lowest = includePrerelease ? LOWEST : [];
  if (op === '~' || op === '^') {
    // with includePrerelease, a wildcard lower bound starts at its lowest pre-release (`~1.2` = `1.2.x`)
    if (M === null) return [{ op: 'any' }];
    if (m === null) return [{ op: '>=', version: semver(M, '0', '0', lowest) }, { op: '<', version: semver(incrementDigitRun(M), '0', '0', LOWEST) }];
    if (op === '~') {
      const from = p === null ? semver(M, m, '0', lowest) : semver(M, m, p, pr);
      return [{ op: '>=', version: from }, { op: '<', version: semver(M, incrementDigitRun(m), '0', LOWEST) }];
    }
    // caret: the left-most non-zero part may not change
    if (p === null) {
      const upper = M === '0' ? semver(M, incrementDigitRun(m), '0', LOWEST) : semver(incrementDigitRun(M), '0', '0', LOWEST);
      return [{ op: '>=', version: semver(M, m, '0', lowest) }, { op: '<', version: upper }];
    }
    let upper: SemVer;
    if (M !== '0') upper = semver(incrementDigitRun(M), '0', '0', LOWEST);
    else if (m !== '0') upper = semver(M, incrementDigitRun(m), '0', LOWEST);
    else upper = semver(M, m, incrementDigitRun(p), LOWEST);
    return [{ op: '>=', version: semver(M, m, p, pr) }, { op: '<', version: upper }];
  }

  const anyWildcard = M === null || m === null || p === null;
  if (!anyWildcard) return [{ op: op === '' ? '=' : op, version: semver(M, m, p, pr) }];
  let gtlt: Op = op === '=' ? '' : op;
  if (M === null) return gtlt === '<' || gtlt === '>' ? [{ op: '<', version: semver('0', '0', '0', LOWEST) }] : [{ op: 'any' }];
  if (gtlt !== '') {
    let major = M;
    let minor = m ?? '0';
    let prerelease = lowest;
    if (gtlt === '>') {
      // >1 is >=2.0.0, >1.2 is >=1.3.0
      gtlt = '>=';
      if (m === null) {
        major = incrementDigitRun(M);
        minor = '0';
      } else {
        minor = incrementDigitRun(m);
      }
    } else if (gtlt === '<=') {
      // <=0.7.x is <0.8.0
      gtlt = '<';
      if (m === null) major = incrementDigitRun(M);
      else minor = incrementDigitRun(m);
    }
    if (gtlt === '<') prerelease = LOWEST;
    return [{ op: gtlt as RangeOperator, version: semver(major, minor, '0', prerelease) }];
  }
  if (m === null) return [{ op: '>=', version: semver(M, '0', '0', lowest) }, { op: '<', version: semver(incrementDigitRun(M), '0', '0', LOWEST) }];
  return [{ op: '>=', version: semver(M, m, '0', lowest) }, { op: '<', version: semver(M, incrementDigitRun(m), '0', LOWEST) }];
}

const OPERATOR = /^(~>|~|\^|<=|>=|<|>|=)?/;

/** Splits one comparator set into `operator+version` words: `>= 1.2  <2` → [`>=1.2`, `<2`]. */
function comparatorWords(set: string): string[] {
  const words = set.split(/[ \t\n\r]+/).filter((w) => w !== '');
  const joined: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    // an operator on its own binds to the next word (`< 2.0.0`, `~ 1.2`, `>= v1`)
    if (/^(?:~>|~|\^|<=|>=|<|>|=)$/.test(w) && i + 1 < words.length) {
      joined.push(w + (words[++i] ?? ''));
    } else {
      joined.push(w);
    }
  }
  return joined;
}

function parseComparatorSet(set: string, includePrerelease: boolean): NpmComparator[] | null {
  const text = set.trim();
  // hyphen range: `1.2.3 - 2.3.4` (the hyphen must stand alone between blanks)
  const hyphen = /^(\S+)[ \t]+-[ \t]+(\S+)$/.exec(text);
  if (hyphen) return hyphenRange(hyphen[1] ?? '', hyphen[2] ?? '', includePrerelease);
  const out: NpmComparator[] = [];
  for (const word of comparatorWords(text)) {
    const op = (OPERATOR.exec(word)?.[0] ?? '') as Op | '~>';
    const partial = parsePartial(word.slice(op.length));
    if (!partial) return null;
    out.push(...desugar(op === '~>' ? '~' : op, partial, includePrerelease));
  }
  return out.length > 0 ? out : [{ op: 'any' }];
}

function hyphenRange(fromText: string, toText: string, includePrerelease: boolean): NpmComparator[] | null {
  const from = parsePartial(fromText);
  const to = parsePartial(toText);
  if (!from || !to) return null;
  const out: NpmComparator[] = [];
  const lowest = includePrerelease ? LOWEST : [];
  if (from.major !== null) {
    if (from.minor === null) out.push({ op: '>=', version: semver(from.major, '0', '0', lowest) });
    else if (from.patch === null) out.push({ op: '>=', version: semver(from.major, from.minor, '0', lowest) });
    else out.push({ op: '>=', version: semver(from.major, from.minor, from.patch, from.prerelease.length > 0 ? from.prerelease : lowest) });
  }
  if (to.major !== null) {
    if (to.minor === null) out.push({ op: '<', version: semver(incrementDigitRun(to.major), '0', '0', LOWEST) });
    else if (to.patch === null) out.push({ op: '<', version: semver(to.major, incrementDigitRun(to.minor), '0', LOWEST) });
    else if (to.prerelease.length > 0) out.push({ op: '<=', version: semver(to.major, to.minor, to.patch, to.prerelease) });
    else if (includePrerelease) out.push({ op: '<', version: semver(to.major, to.minor, incrementDigitRun(to.patch), LOWEST) });
    else out.push({ op: '<=', version: semver(to.major, to.minor, to.patch) });
  }
  return out.length > 0 ? out : [{ op: 'any' }];
}

/**
 * Parses an npm range (`^1.2.3`, `~1.2`, `1.x || >=2.1.0 <3`, `1.2 - 2.3.4`, `*`, ``) into comparator sets, the way
 * node-semver does without its `loose` option; `null` when any part is not valid npm range syntax.
 */
export function parseNpmRange(range: string, options: NpmRangeOptions = {}): NpmRange | null {
  const includePrerelease = options.includePrerelease ?? false;
  const sets: NpmRange = [];
  for (const part of range.split('||')) {
    const set = parseComparatorSet(part, includePrerelease);
    if (!set) return null;
    sets.push(set);
  }
  return sets;
}

function testComparator(c: NpmComparator, v: SemVer): boolean {
  if (c.op === 'any') return true;
  const order = compareParsedSemver(v, c.version);
  switch (c.op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}

function testSet(set: readonly NpmComparator[], v: SemVer, includePrerelease: boolean): boolean {
  if (!set.every((c) => testComparator(c, v))) return false;
  if (v.prerelease.length === 0 || includePrerelease) return true;
  // a pre-release only matches when the set itself names a pre-release of the same major.minor.patch
  return set.some(
    (c) =>
      c.op !== 'any' &&
      c.version.prerelease.length > 0 &&
      compareDigitRuns(c.version.major, v.major) === 0 &&
      compareDigitRuns(c.version.minor, v.minor) === 0 &&
      compareDigitRuns(c.version.patch, v.patch) === 0,
  );
}

/** node-semver's `satisfies(version, range)`; false for an invalid version or range. */
export function satisfiesNpmRange(version: string, range: string | NpmRange, options: NpmRangeOptions = {}): boolean {
  const includePrerelease = options.includePrerelease ?? false;
  const v = parseSemver(version);
  const parsed = typeof range === 'string' ? parseNpmRange(range, options) : range;
  if (!v || !parsed) return false;
  return parsed.some((set) => testSet(set, v, includePrerelease));
}

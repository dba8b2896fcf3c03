/**
 * Native range expressions (npm ranges, RubyGems requirements) turned into OSV-style `VersionRange`s.
 *
 * An expression is read as a set of intervals of versions (ordered by the ecosystem's comparator), combined with
 * union / intersection / complement, and each resulting interval written as one `VersionRange`:
 * - lower bound: none → `introduced: "0"`; inclusive `>= a` → `introduced: a`; exclusive `> a` → `introduced:` the
 *   smallest version above `a` (exact for SemVer: `1.2.4-0` after `1.2.3`; RubyGems has no smallest next version, see
 *   `gemSuccessor`);
 * - upper bound: exclusive `< b` → `fixed: b` (npm's desugared `<2.0.0-0` is read as `<2.0.0`); inclusive `<= b` → `lastAffected: b`, plus `fixed:` the first safe
 *   version after it when the feed names one (inRange is unchanged by it, since `fixed` > `lastAffected`, and the
 *   report can show the fix);
 * - a single version `= v` → the affected package's `versions` list.
 * The expression itself is kept verbatim beside the ranges (`NativeRange`) so that nothing is lost.
 */
import type { AffectedPackage, VersionRange } from '../model.js';
import { gemBump, gemVersions, parseGemRequirement, parseNpmRange, semverVersions } from '../versions/index.js';
import type { NpmComparator, SemVer } from '../versions/semver.js';
import { incrementDigitRun } from '../versions/text.js';
import { MAX_GEM_REQUIREMENT_CHARS, MAX_NPM_RANGE_ALTERNATIVES, MAX_NPM_RANGE_CHARS } from './limits.js';

/** The feed's own range text, kept because the model's `VersionRange` cannot always say it exactly. */
export type NativeRange =
  | { syntax: 'npm'; vulnerable: string; patched?: string }
  | { syntax: 'rubygems'; patched: string[]; unaffected: string[] };

/**
 * `AffectedPackage` plus the verbatim range expression. `model.ts` has no field for it yet (see the feeds report);
 * records carry it at run time, typed here, and the DB writer ignores it.
 */
export interface FeedAffectedPackage extends AffectedPackage {
  nativeRange?: NativeRange;
}

interface Bound {
  version: string;
  inclusive: boolean;
}

/** A convex set of versions; an absent bound is unbounded. */
export interface Interval {
  lower?: Bound;
  upper?: Bound;
}

type Compare = (a: string, b: string) => number;

const EVERYTHING: Interval = {};

function isEmpty(i: Interval, cmp: Compare): boolean {
  if (!i.lower || !i.upper) return false;
  const order = cmp(i.lower.version, i.upper.version);
  return order > 0 || (order === 0 && !(i.lower.inclusive && i.upper.inclusive));
}

/** The higher lower bound (exclusive wins a tie). */
function maxLower(a: Bound | undefined, b: Bound | undefined, cmp: Compare): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const order = cmp(a.version, b.version);
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** The lower upper bound (exclusive wins a tie). */
function minUpper(a: Bound | undefined, b: Bound | undefined, cmp: Compare): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const order = cmp(a.version, b.version);
  if (order !== 0) return order < 0 ? a : b;
  return a.inclusive ? b : a;
}

function intersectTwo(a: Interval, b: Interval, cmp: Compare): Interval | null {
  const lower = maxLower(a.lower, b.lower, cmp);
  const upper = minUpper(a.upper, b.upper, cmp);
  const out: Interval = { ...(lower ? { lower } : {}), ...(upper ? { upper } : {}) };
  return isEmpty(out, cmp) ? null : out;
}

/** Lower bounds in ascending order (unbounded first, inclusive before exclusive at the same version). */
function compareLower(a: Interval, b: Interval, cmp: Compare): number {
  if (!a.lower || !b.lower) return a.lower ? 1 : b.lower ? -1 : 0;
  const order = cmp(a.lower.version, b.lower.version);
  if (order !== 0) return order;
  return a.lower.inclusive === b.lower.inclusive ? 0 : a.lower.inclusive ? -1 : 1;
}

/** The higher upper bound (inclusive wins a tie); unbounded if either is. */
function maxUpper(a: Bound | undefined, b: Bound | undefined, cmp: Compare): Bound | undefined {
  if (!a || !b) return undefined;
  const order = cmp(a.version, b.version);
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? a : b;
}

/** Sorted, merged, non-empty intervals covering the same versions. */
export function union(intervals: readonly Interval[], cmp: Compare): Interval[] {
  const sorted = intervals.filter((i) => !isEmpty(i, cmp)).sort((a, b) => compareLower(a, b, cmp));
  const out: Interval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    // overlapping or touching ([a, b) then [b, c), or [a, b] then (b, c)): one interval
    let touches = false;
    if (last) {
      if (!last.upper || !next.lower) touches = true;
      else {
        const order = cmp(last.upper.version, next.lower.version);
        touches = order > 0 || (order === 0 && (last.upper.inclusive || next.lower.inclusive));
      }
    }
    if (last && touches) {
      const upper = maxUpper(last.upper, next.upper, cmp);
      out[out.length - 1] = { ...(last.lower ? { lower: last.lower } : {}), ...(upper ? { upper } : {}) };
    } else {
      out.push(next);
    }
  }
  return out;
}

/** Every version not in the intervals. */
export function complement(intervals: readonly Interval[], cmp: Compare): Interval[] {
  const out: Interval[] = [];
  let gapStart: Bound | undefined; // undefined: the first gap is unbounded below
  for (const i of union(intervals, cmp)) {
    if (i.lower) {
      const gap: Interval = { ...(gapStart ? { lower: gapStart } : {}), upper: { version: i.lower.version, inclusive: !i.lower.inclusive } };
      if (!isEmpty(gap, cmp)) out.push(gap);
    }
    if (!i.upper) return out;
    gapStart = { version: i.upper.version, inclusive: !i.upper.inclusive };
  }
  out.push(gapStart ? { lower: gapStart } : EVERYTHING);
  return out;
}

export function intersect(a: readonly Interval[], b: readonly Interval[], cmp: Compare): Interval[] {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const i = intersectTwo(x, y, cmp);
      if (i) out.push(i);
    }
  }
  return union(out, cmp);
}

export interface RangeWriting {
  cmp: Compare;
  /** The smallest version above `v` (for exclusive lower bounds). */
  successor: (v: string) => string;
}

/**
 * The `ranges` and `versions` of an affected package for these intervals. `safe` (optional) are the versions the
 * feed calls patched: after an inclusive upper bound, the first safe inclusive lower bound is given as `fixed`.
 */
export function toVersionRanges(vulnerable: readonly Interval[], how: RangeWriting, safe: readonly Interval[] = []): { ranges: VersionRange[]; versions: string[] } {
  const ranges: VersionRange[] = [];
  const versions: string[] = [];
  const safeStarts = safe.flatMap((i) => (i.lower?.inclusive ? [i.lower.version] : [])).sort(how.cmp);
  for (const i of union(vulnerable, how.cmp)) {
    if (i.lower && i.upper && i.lower.inclusive && i.upper.inclusive && how.cmp(i.lower.version, i.upper.version) === 0) {
      versions.push(i.lower.version);
      continue;
    }
    const range: VersionRange = { introduced: !i.lower ? '0' : i.lower.inclusive ? i.lower.version : how.successor(i.lower.version) };
    if (i.upper && !i.upper.inclusive) {
      range.fixed = i.upper.version;
    } else if (i.upper) {
      const last = i.upper.version;
      range.lastAffected = last;
      const fix = safeStarts.find((v) => how.cmp(v, last) > 0);
      if (fix !== undefined) range.fixed = fix;
    }
    ranges.push(range);
  }
  return { ranges, versions };
}

// -------------------------------------------------------------------------------------------------------------
// npm

export function formatSemver(v: SemVer): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length > 0 ? `-${v.prerelease.join('.')}` : ''}`;
}

const semverCmp: Compare = (a, b) => semverVersions.compare(a, b);

/** SemVer's next version: `1.2.3` → `1.2.4-0`, `1.2.3-beta` → `1.2.3-beta.0` (nothing sorts between them). */
export function semverSuccessor(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(version);
  if (!m) return version;
  if (m[4] !== undefined) return `${version}.0`;
  return `${m[1]}.${m[2]}.${incrementDigitRun(m[3] ?? '0')}-0`;
}

const NPM_WRITING: RangeWriting = { cmp: semverCmp, successor: semverSuccessor };

function npmComparatorInterval(c: NpmComparator): Interval {
  if (c.op === 'any') return EVERYTHING;
  // node-semver writes the end of `1.x`, `^1.2.3`, `<2` as `<2.0.0-0` (no 2.0.0 pre-release). Read as `<2.0.0`, the
  // usual advisory meaning: `5.x || 6.x` is then one interval, and the fix shown is 2.0.0, not 2.0.0-0.
  const lowest = c.op === '<' && c.version.prerelease.length === 1 && c.version.prerelease[0] === '0';
  const version = formatSemver(lowest ? { ...c.version, prerelease: [] } : c.version);
  switch (c.op) {
    case '<':
      return { upper: { version, inclusive: false } };
    case '<=':
      return { upper: { version, inclusive: true } };
    case '>':
      return { lower: { version, inclusive: false } };
    case '>=':
      return { lower: { version, inclusive: true } };
    case '=':
      return { lower: { version, inclusive: true }, upper: { version, inclusive: true } };
  }
}

/** The versions an npm range admits, as intervals; null when it is not an npm range. */
export function npmRangeIntervals(range: string): Interval[] | null {
  if (range.length > MAX_NPM_RANGE_CHARS) return null;
  const parsed = parseNpmRange(range);
  if (!parsed || parsed.length > MAX_NPM_RANGE_ALTERNATIVES) return null;
  const sets: Interval[] = [];
  for (const set of parsed) {
    let acc: Interval | null = EVERYTHING;
    for (const c of set) {
      acc = intersectTwo(acc, npmComparatorInterval(c), semverCmp);
      if (!acc) break;
    }
    if (acc) sets.push(acc);
  }
  return union(sets, semverCmp);
}

/**
 * Ranges for an npm advisory: the versions in `vulnerable` and not in `patched` (as the nodejs security WG and
 * `npm audit` read them). Differs from node-semver only for pre-releases: node-semver lets a pre-release match a
 * range only when the range names a pre-release of the same version, the ranges here order pre-releases as SemVer
 * does (`1.5.1-beta` is within `<=1.5.1`, `2.0.0-beta` within `1.x`). Null when `vulnerable` is not an npm range.
 */
export function npmAdvisoryRanges(vulnerable: string, patched: string | undefined): { ranges: VersionRange[]; versions: string[]; native: NativeRange } | null {
  const v = npmRangeIntervals(vulnerable);
  if (!v) return null;
  const p = patched !== undefined ? npmRangeIntervals(patched) : null;
  const affected = p ? intersect(v, complement(p, semverCmp), semverCmp) : v;
  const { ranges, versions } = toVersionRanges(affected, NPM_WRITING, p ?? []);
  return { ranges, versions, native: { syntax: 'npm', vulnerable, ...(patched !== undefined ? { patched } : {}) } };
}

// -------------------------------------------------------------------------------------------------------------
// RubyGems

const gemCmp: Compare = (a, b) => gemVersions.compare(a, b);

/**
 * RubyGems has no smallest version after `v` (`1.0.0.0.1` < `1.0.0.1`, and so on), so `> v` is written as
 * `introduced: v.0.0.0.0.0.0.0.1`: it admits exactly the versions above `v` except those that continue `v` with seven
 * zero segments (which no gem publishes).
 */
export function gemSuccessor(version: string): string {
  return `${version}.0.0.0.0.0.0.0.1`;
}

const GEM_WRITING: RangeWriting = { cmp: gemCmp, successor: gemSuccessor };

/** One requirement line (`"~> 1.2.3, >= 1.2.5"`: all must hold) as intervals; null when malformed. */
export function gemRequirementIntervals(requirement: string): Interval[] | null {
  if (requirement.length > MAX_GEM_REQUIREMENT_CHARS) return null;
  const parsed = parseGemRequirement(requirement);
  if (!parsed) return null;
  let acc: Interval[] = [EVERYTHING];
  for (const r of parsed) {
    const v = r.version;
    let part: Interval[];
    switch (r.op) {
      case '=':
        part = [{ lower: { version: v, inclusive: true }, upper: { version: v, inclusive: true } }];
        break;
      case '!=':
        part = [{ upper: { version: v, inclusive: false } }, { lower: { version: v, inclusive: false } }];
        break;
      case '>':
        part = [{ lower: { version: v, inclusive: false } }];
        break;
      case '>=':
        part = [{ lower: { version: v, inclusive: true } }];
        break;
      case '<':
        part = [{ upper: { version: v, inclusive: false } }];
        break;
      case '<=':
        part = [{ upper: { version: v, inclusive: true } }];
        break;
      case '~>':
        // `~> 1.2.3` = `>= 1.2.3, < 1.3` (pre-releases of 1.3 are below 1.3 here; RubyGems compares their release)
        part = [{ lower: { version: v, inclusive: true }, upper: { version: gemBump(v), inclusive: false } }];
        break;
    }
    acc = intersect(acc, part, gemCmp);
  }
  return acc;
}

/**
 * Ranges for a rubysec advisory: every version that satisfies no `patched_versions` and no `unaffected_versions`
 * line (as bundler-audit decides); `{ error }` naming the offending line when a requirement is malformed.
 */
export function gemAdvisoryRanges(patched: readonly string[], unaffected: readonly string[]): { ranges: VersionRange[]; versions: string[]; native: NativeRange } | { error: string } {
  const patchedIntervals: Interval[] = [];
  const unaffectedIntervals: Interval[] = [];
  for (const [lines, into] of [[patched, patchedIntervals], [unaffected, unaffectedIntervals]] as const) {
    for (const line of lines) {
      const intervals = gemRequirementIntervals(line);
      if (!intervals) return { error: `malformed requirement ${JSON.stringify(line.slice(0, 100))}` };
      into.push(...intervals);
    }
  }
  const safe = [...patchedIntervals, ...unaffectedIntervals];
  const vulnerable = complement(safe, gemCmp);
  const { ranges, versions } = toVersionRanges(vulnerable, GEM_WRITING, patchedIntervals);
  return { ranges, versions, native: { syntax: 'rubygems', patched: [...patched], unaffected: [...unaffected] } };
}

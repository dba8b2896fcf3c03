import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, incrementDigitRun, isDigitCode, isZeroRun } from './text.js';

/**
 * RubyGems versions (`Gem::Version`) and requirements (`Gem::Requirement`).
 *
 * A version is read as runs of digits and runs of letters (`1.0.0.rc1` → 1, 0, 0, "rc", 1; a `-` means `.pre.`).
 * Any letter makes it a pre-release. Trailing zeros are ignored separately in the numeric head and in the part from
 * the first letter on (`1.0` = `1`, `1.0.a.0` = `1.a`). Segments compare left to right: numbers numerically, words
 * by bytes, a word before a number (and before a missing segment, which counts as 0): `1.0.a < 1.0 < 1.0.1`.
 */

type Segment = string; // digits or letters

/**
 * RubyGems' `Gem::Version.correct?` pattern, applied after trimming (RubyGems allows surrounding blanks; trimming
 * first keeps the expression linear: `^\s*…\s*$` backtracks quadratically on long runs of blanks). Empty = "0".
 */
const VERSION_PATTERN = /^(?:[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?$/;

/** Ruby's `\s`: ASCII blanks only. */
function isRubySpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function trimRubySpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isRubySpace(s.charCodeAt(start))) start++;
  while (end > start && isRubySpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isNumeric(segment: Segment): boolean {
  return isDigitCode(segment.charCodeAt(0));
}

/** The version text RubyGems keeps: trimmed, `-` replaced by `.pre.`, blank → `0`. */
function canonicalText(version: string): string {
  const text = trimRubySpace(version);
  if (text === '') return '0';
  return text.replaceAll('-', '.pre.');
}

/** `Gem::Version#segments`: maximal runs of ASCII digits or ASCII letters; anything else only separates. */
export function gemSegments(version: string): Segment[] {
  return canonicalText(version).match(/[0-9]+|[a-zA-Z]+/g) ?? [];
}

function dropTrailingZeros(segments: Segment[]): Segment[] {
  let end = segments.length;
  while (end > 0 && isNumeric(segments[end - 1] ?? 'x') && isZeroRun(segments[end - 1] ?? '')) end--;
  return segments.slice(0, end);
}

/** `Gem::Version#canonical_segments`. */
function canonicalSegments(version: string): Segment[] {
  const segments = gemSegments(version);
  const firstWord = segments.findIndex((s) => !isNumeric(s));
  if (firstWord < 0) return dropTrailingZeros(segments);
  return [...dropTrailingZeros(segments.slice(0, firstWord)), ...dropTrailingZeros(segments.slice(firstWord))];
}

export function isGemPrerelease(version: string): boolean {
  return /[a-zA-Z]/.test(version);
}

export function isValidGemVersion(version: string): boolean {
  return VERSION_PATTERN.test(trimRubySpace(version));
}

function compareCanonical(a: readonly Segment[], b: readonly Segment[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '0';
    const y = b[i] ?? '0';
    const xNumeric = isNumeric(x);
    const yNumeric = isNumeric(y);
    if (xNumeric && yNumeric) {
      const order = compareDigitRuns(x, y);
      if (order !== 0) return order;
    } else if (xNumeric !== yNumeric) {
      return xNumeric ? 1 : -1;
    } else if (x !== y) {
      return compareCodeUnits(x, y);
    }
  }
  return 0;
}

/**
 * `Gem::Version#<=>`. RubyGems cannot compare a malformed version at all (`Gem::Version.new` raises); here those
 * sort before every well-formed version and among themselves by their raw text.
 */
export function compareGemVersions(a: string, b: string): number {
  const validA = isValidGemVersion(a);
  const validB = isValidGemVersion(b);
  if (!validA || !validB) {
    if (validA || validB) return validA ? 1 : -1;
    return compareCodeUnits(a, b);
  }
  return compareCanonical(canonicalSegments(a), canonicalSegments(b));
}

export const gemVersions: VersionComparator = {
  scheme: 'gem',
  compare: compareGemVersions,
  valid: isValidGemVersion,
};

// ---------------------------------------------------------------------------------------------------------------
// requirements

export type GemOperator = '=' | '!=' | '>' | '<' | '>=' | '<=' | '~>';

export interface GemRequirement {
  op: GemOperator;
  version: string;
}

/** `Gem::Version#release`: a pre-release without its first word segment and everything after it. */
function releaseOf(version: string): string {
  if (!isGemPrerelease(version)) return version;
  const segments = gemSegments(version);
  const firstWord = segments.findIndex((s) => !isNumeric(s));
  return segments.slice(0, firstWord < 0 ? segments.length : firstWord).join('.');
}

/** `Gem::Version#bump`: drop word segments and the last number, then increment the new last: 1.2.3 → 1.3, 1 → 2. */
export function gemBump(version: string): string {
  const segments = gemSegments(version);
  const firstWord = segments.findIndex((s) => !isNumeric(s));
  const numeric = segments.slice(0, firstWord < 0 ? segments.length : firstWord);
  if (numeric.length > 1) numeric.pop();
  const last = numeric.length - 1;
  numeric[last] = incrementDigitRun(numeric[last] ?? '0');
  return numeric.join('.');
}

/** `op version` after trimming; the single blank run between them keeps the expression linear. */
const REQUIREMENT = /^(=|!=|>=|<=|>|<|~>)?[ \t\n\v\f\r]*([^ \t\n\v\f\r]+)$/;

/**
 * Parses one requirement list as bundler-audit reads rubysec's `patched_versions` entries: comma-separated
 * `op version` pairs that must all hold (`"~> 5.2.4, >= 5.2.4.3"`); an operator defaults to `=`. `null` when any
 * part is malformed.
 */
export function parseGemRequirement(requirement: string): GemRequirement[] | null {
  const out: GemRequirement[] = [];
  for (const part of requirement.split(',')) {
    const m = REQUIREMENT.exec(trimRubySpace(part));
    if (!m || !isValidGemVersion(m[2] ?? '')) return null;
    out.push({ op: (m[1] ?? '=') as GemOperator, version: m[2] ?? '' });
  }
  return out.length > 0 ? out : null;
}

function satisfiesOne(version: string, r: GemRequirement): boolean {
  const order = compareGemVersions(version, r.version);
  switch (r.op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '>':
      return order > 0;
    case '<':
      return order < 0;
    case '>=':
      return order >= 0;
    case '<=':
      return order <= 0;
    case '~>':
      return order >= 0 && compareGemVersions(releaseOf(version), gemBump(r.version)) < 0;
  }
}

/** `Gem::Requirement#satisfied_by?`: every requirement holds. False for a malformed version or requirement. */
export function satisfiesGemRequirement(version: string, requirement: string | readonly GemRequirement[]): boolean {
  if (!isValidGemVersion(version)) return false;
  const parsed = typeof requirement === 'string' ? parseGemRequirement(requirement) : requirement;
  if (!parsed || parsed.length === 0) return false;
  return parsed.every((r) => satisfiesOne(version, r));
}

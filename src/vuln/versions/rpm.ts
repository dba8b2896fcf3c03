import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, endOfDigits, isAlnumCode, isAlphaCode, isDigitCode } from './text.js';

/**
 * RPM versions (`[epoch:]version[-release]`), ordered like rpm's `rpmvercmp` (rpm 4.18): each part is read as
 * maximal runs of ASCII digits or ASCII letters, anything else only separates; digit runs compare numerically and
 * beat letter runs; `~` sorts before everything including the end of the string (`1.0~rc1 < 1.0`), `^` after the
 * end but before any further segment (`1.0 < 1.0^git1 < 1.0.1`). Epochs compare numerically (missing = 0), then
 * versions, then releases; a version without a release sorts below the same version with any release (as
 * `rpm.vercmp` does; rpm's dependency matcher instead treats a missing release as "any release", which is not an
 * order).
 */

export interface RpmVersion {
  /** Digits; `"0"` when absent. */
  epoch: string;
  version: string;
  /** `null` when absent (no `-`); `""` for a trailing `-`. */
  release: string | null;
}

/** Splits like rpm's `parseEVR`: leading digits followed by `:` are the epoch, the last `-` starts the release. */
export function parseRpmVersion(evr: string): RpmVersion {
  const digitsEnd = endOfDigits(evr, 0);
  let epoch = '0';
  let rest = evr;
  if (evr.charCodeAt(digitsEnd) === 0x3a /* : */) {
    epoch = digitsEnd === 0 ? '0' : evr.slice(0, digitsEnd);
    rest = evr.slice(digitsEnd + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, version: rest, release: null };
  return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
}

const TILDE = 0x7e;
const CARET = 0x5e;

function isSeparator(c: number): boolean {
  return !Number.isNaN(c) && !isAlnumCode(c) && c !== TILDE && c !== CARET;
}

/** rpm's `rpmvercmp` on one part (version or release). */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && isSeparator(a.charCodeAt(i))) i++;
    while (j < b.length && isSeparator(b.charCodeAt(j))) j++;
    const ca = a.charCodeAt(i); // NaN past the end
    const cb = b.charCodeAt(j);

    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigitCode(ca);
    const startA = i;
    const startB = j;
    if (numeric) {
      i = endOfDigits(a, i);
      j = endOfDigits(b, j);
    } else {
      while (i < a.length && isAlphaCode(a.charCodeAt(i))) i++;
      while (j < b.length && isAlphaCode(b.charCodeAt(j))) j++;
    }
    // `a` has a segment here (it is not a separator, `~`, `^` or the end); `b` may not be of the same kind
    if (j === startB) return numeric ? 1 : -1;
    const segmentA = a.slice(startA, i);
    const segmentB = b.slice(startB, j);
    const order = numeric ? compareDigitRuns(segmentA, segmentB) : compareCodeUnits(segmentA, segmentB);
    if (order !== 0) return order;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export function compareRpmVersions(a: string, b: string): number {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  return compareDigitRuns(va.epoch, vb.epoch) || rpmvercmp(va.version, vb.version) || compareReleases(va.release, vb.release);
}

/** A version without release sorts below the same version with any release, as rpm 4.18's `rpm.vercmp` does. */
function compareReleases(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return rpmvercmp(a, b);
}

/**
 * A plausible rpm EVR: optional numeric epoch, a version and an optional release made of ASCII letters, digits and
 * `. _ + ~ ^` and starting with a letter or digit (rpm forbids `-` inside version and release).
 */
export function isValidRpmVersion(evr: string): boolean {
  const m = /^(?:(\d+):)?([A-Za-z0-9][A-Za-z0-9._+~^]*)(?:-([A-Za-z0-9][A-Za-z0-9._+~^]*))?$/.exec(evr);
  return m !== null;
}

export const rpmVersions: VersionComparator = {
  scheme: 'rpm',
  compare: compareRpmVersions,
  valid: isValidRpmVersion,
};

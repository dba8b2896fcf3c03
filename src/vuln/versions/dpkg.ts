import type { VersionComparator } from '../model.js';
import { compareDigitRuns, isAlnumCode, isAlphaCode, isDigitCode, isDigits, sign } from './text.js';

/**
 * Debian package versions (Debian Policy §5.6.12, as `dpkg --compare-versions` implements it):
 * `[epoch:]upstream_version[-debian_revision]`. The epoch compares numerically; upstream and revision compare with
 * dpkg's `verrevcmp`: alternating non-digit and digit runs, non-digit runs character by character with `~` before
 * everything (even the end of the string), then letters, then everything else; digit runs numerically.
 */

export interface DebianVersion {
  /** Digits only; `"0"` when the version has none. */
  epoch: string;
  upstream: string;
  /** `""` when the version has no `-revision` (dpkg treats that like `"0"`). */
  revision: string;
}

/**
 * Splits a version the way dpkg does: surrounding whitespace trimmed, epoch before the first `:` (when it is all
 * digits), revision after the last `-`. Never throws; anything malformed is still split so that it compares
 * consistently (a non-numeric "epoch" stays part of the upstream version).
 */
export function parseDebianVersion(version: string): DebianVersion {
  const text = version.trim();
  let rest = text;
  let epoch = '0';
  const colon = text.indexOf(':');
  if (colon >= 0 && isDigits(text.slice(0, colon))) {
    epoch = text.slice(0, colon);
    rest = text.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, upstream: rest, revision: '' };
  return { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

/** dpkg's weight of one character in a non-digit run; `NaN` (past the end) weighs 0 like C's terminating NUL. */
function weight(c: number): number {
  if (Number.isNaN(c) || isDigitCode(c)) return 0;
  if (isAlphaCode(c)) return c;
  if (c === 0x7e /* ~ */) return -1;
  return c + 256;
}

/** dpkg's `verrevcmp` on one part (upstream version or revision). */
export function compareDebianPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // non-digit prefix, character by character
    while ((i < a.length && !isDigitCode(a.charCodeAt(i))) || (j < b.length && !isDigitCode(b.charCodeAt(j)))) {
      const wa = weight(a.charCodeAt(i));
      const wb = weight(b.charCodeAt(j));
      if (wa !== wb) return sign(wa - wb);
      i++;
      j++;
    }
    // digit run, numerically
    const startA = i;
    const startB = j;
    while (i < a.length && isDigitCode(a.charCodeAt(i))) i++;
    while (j < b.length && isDigitCode(b.charCodeAt(j))) j++;
    const byValue = compareDigitRuns(a.slice(startA, i), b.slice(startB, j));
    if (byValue !== 0) return byValue;
  }
  return 0;
}

export function compareDebianVersions(a: string, b: string): number {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  return (
    compareDigitRuns(va.epoch, vb.epoch) ||
    compareDebianPart(va.upstream, vb.upstream) ||
    compareDebianPart(va.revision, vb.revision)
  );
}

const INT_MAX = '2147483647';

function allowed(s: string, extra: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnumCode(c) && !extra.includes(s[i] ?? '')) return false;
  }
  return true;
}

/**
 * True when dpkg accepts the version without error or warning: no inner whitespace, a numeric epoch that fits an
 * int, a non-empty upstream version starting with a digit, only `[A-Za-z0-9.+~-:]` in it and `[A-Za-z0-9.+~]` in
 * the revision, and a non-empty revision after a `-`.
 */
export function isValidDebianVersion(version: string): boolean {
  const text = version.trim();
  if (text === '' || /\s/.test(text)) return false;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const epoch = text.slice(0, colon);
    if (!isDigits(epoch) || compareDigitRuns(epoch, INT_MAX) > 0) return false;
  }
  const { upstream, revision } = parseDebianVersion(text);
  if (upstream === '' || !isDigitCode(upstream.charCodeAt(0))) return false;
  if (!allowed(upstream, '.+~-:')) return false;
  if (text.lastIndexOf('-') > colon && revision === '') return false;
  return allowed(revision, '.+~');
}

export const dpkgVersions: VersionComparator = {
  scheme: 'dpkg',
  compare: compareDebianVersions,
  valid: isValidDebianVersion,
};

import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, isDigits } from './text.js';

/**
 * Python package versions (PEP 440, as the `packaging` library implements it):
 * `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, case-insensitive, with the spellings PEP 440 normalises
 * (`alpha`→`a`, `beta`→`b`, `c`/`pre`/`preview`→`rc`, `rev`/`r`→`post`, `1.0-1` = `1.0.post1`, optional
 * separators `-` `_` `.`, a leading `v`, implicit 0 numbers).
 *
 * Ordering: epoch, release (trailing zeros ignored: `1.0.0a1` = `1.0a1`), then `X.devN < XaN < XbN < XrcN < X <
 * X.postN`, dev releases before what they precede (`1.0a1.dev1 < 1.0a1`, `1.0.post1.dev1 < 1.0.post1`), and a
 * local version after the same public version (`1.0 < 1.0+local`; local segments: numbers beat strings). Strings
 * that are not PEP 440 versions sort before every version, among themselves by their raw text.
 */

export interface Pep440Version {
  /** Digit strings. */
  epoch: string;
  release: string[];
  pre: { label: 'a' | 'b' | 'rc'; number: string } | null;
  post: string | null;
  dev: string | null;
  /** Lower-cased segments, split on `-` `_` `.`. */
  local: string[] | null;
}

// The grammar of PEP 440 Appendix B, applied case-insensitively to the trimmed string. Every optional part is
// introduced by a distinct literal, so the expression cannot backtrack more than linearly.
const PEP440 = new RegExp(
  '^v?' +
    '(?:(\\d+)!)?' + // epoch
    '(\\d+(?:\\.\\d+)*)' + // release
    '(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\\d+)?)?' + // pre-release
    '(?:-(\\d+)|[-_.]?(post|rev|r)[-_.]?(\\d+)?)?' + // post-release
    '(?:[-_.]?(dev)[-_.]?(\\d+)?)?' + // dev release
    '(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$', // local version
  'i',
);

const PRE_LABEL: Record<string, 'a' | 'b' | 'rc'> = { alpha: 'a', a: 'a', beta: 'b', b: 'b', c: 'rc', pre: 'rc', preview: 'rc', rc: 'rc' };

/** Parses a PEP 440 version; `null` when it is not one. */
export function parsePep440(version: string): Pep440Version | null {
  const m = PEP440.exec(version.trim());
  if (!m) return null;
  const [, epoch, release = '0', preLabel, preNumber, postImplicit, postLabel, postNumber, devLabel, devNumber, local] = m;
  return {
    epoch: epoch ?? '0',
    release: release.split('.'),
    pre: preLabel ? { label: PRE_LABEL[preLabel.toLowerCase()] ?? 'rc', number: preNumber ?? '0' } : null,
    post: postImplicit ?? (postLabel ? (postNumber ?? '0') : null),
    dev: devLabel ? (devNumber ?? '0') : null,
    local: local ? local.toLowerCase().split(/[-_.]/) : null,
  };
}

function stripZeros(digits: string): string {
  const s = digits.replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** The normalised form (`1.0.0-ALPHA_1` → `1.0.0a1`, `v2.0-1` → `2.0.post1`), or `null` for a non-version. */
export function normalizePep440(version: string): string | null {
  const v = parsePep440(version);
  if (!v) return null;
  let out = v.epoch !== '0' && stripZeros(v.epoch) !== '0' ? `${stripZeros(v.epoch)}!` : '';
  out += v.release.map(stripZeros).join('.');
  if (v.pre) out += v.pre.label + stripZeros(v.pre.number);
  if (v.post !== null) out += `.post${stripZeros(v.post)}`;
  if (v.dev !== null) out += `.dev${stripZeros(v.dev)}`;
  if (v.local) out += `+${v.local.map((s) => (isDigits(s) ? stripZeros(s) : s)).join('.')}`;
  return out;
}

function compareRelease(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const order = compareDigitRuns(a[i] ?? '0', b[i] ?? '0');
    if (order !== 0) return order;
  }
  return 0;
}

/**
 * Rank of the pre-release slot: a dev release of the final version (`1.0.dev1`, no pre/post) sorts before any
 * pre-release, the final version after all of them.
 */
function compareOptionalPre(a: Pep440Version, b: Pep440Version): number {
  const rank = (v: Pep440Version): number => (v.pre ? 1 : v.post === null && v.dev !== null ? 0 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (!a.pre || !b.pre) return 0;
  return compareCodeUnits(a.pre.label, b.pre.label) || compareDigitRuns(a.pre.number, b.pre.number);
}

/** `null` sorts first (no post-release) or last (no dev release), depending on `missingFirst`. */
function compareOptionalNumber(a: string | null, b: string | null, missingFirst: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === missingFirst ? -1 : 1;
  }
  return compareDigitRuns(a, b);
}

function compareLocal(a: readonly string[] | null, b: readonly string[] | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    const xNumeric = isDigits(x);
    const yNumeric = isDigits(y);
    let order: number;
    if (xNumeric && yNumeric) order = compareDigitRuns(x, y);
    else if (xNumeric !== yNumeric) order = xNumeric ? 1 : -1;
    else order = compareCodeUnits(x, y);
    if (order !== 0) return order;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareParsedPep440(a: Pep440Version, b: Pep440Version): number {
  return (
    compareDigitRuns(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    compareOptionalPre(a, b) ||
    compareOptionalNumber(a.post, b.post, true) ||
    compareOptionalNumber(a.dev, b.dev, false) ||
    compareLocal(a.local, b.local)
  );
}

export function comparePep440(a: string, b: string): number {
  const va = parsePep440(a);
  const vb = parsePep440(b);
  if (va && vb) return compareParsedPep440(va, vb);
  if (va || vb) return va ? 1 : -1;
  return compareCodeUnits(a, b);
}

export const pep440Versions: VersionComparator = {
  scheme: 'pep440',
  compare: comparePep440,
  valid: (version) => parsePep440(version) !== null,
};

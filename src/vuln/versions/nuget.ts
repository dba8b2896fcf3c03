import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, isAlnumCode, isDigits } from './text.js';

/**
 * NuGet versions (`NuGetVersion` with NuGet's default comparer): `Major.Minor[.Patch[.Revision]][-label.label][+meta]`.
 * Missing numeric parts are 0 (`1.0` = `1.0.0.0`, leading zeros allowed), a release sorts after its pre-releases,
 * labels compare left to right — numeric labels numerically and before text labels, text labels case-insensitively
 * (`1.0.0-BETA` = `1.0.0-beta`) — and metadata is ignored. Strings that are not NuGet versions sort before every
 * version, among themselves by their raw text.
 */

export interface NuGetVersion {
  /** Four digit strings. */
  numbers: [string, string, string, string];
  labels: string[];
}

const INT32_MAX = '2147483647';

function isLabel(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnumCode(c) && c !== 0x2d) return false;
  }
  return true;
}

export function parseNuGetVersion(version: string): NuGetVersion | null {
  let rest = version.trim();
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    if (!rest.slice(plus + 1).split('.').every(isLabel)) return null;
    rest = rest.slice(0, plus);
  }
  let labels: string[] = [];
  const hyphen = rest.indexOf('-');
  if (hyphen >= 0) {
    labels = rest.slice(hyphen + 1).split('.');
    if (!labels.every(isLabel)) return null;
    rest = rest.slice(0, hyphen);
  }
  const parts = rest.split('.');
  // System.Version: two to four int32 parts; NuGet also accepts a lone major (`1` = `1.0.0`)
  if (parts.length > 4 || !parts.every((p) => isDigits(p) && compareDigitRuns(p, INT32_MAX) <= 0)) return null;
  const [major = '0', minor = '0', patch = '0', revision = '0'] = parts;
  return { numbers: [major, minor, patch, revision], labels };
}

/** NuGet treats a label as a number when it parses as an int32. */
function isNumericLabel(s: string): boolean {
  return isDigits(s) && compareDigitRuns(s, INT32_MAX) <= 0;
}

function compareLabels(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    const xNumeric = isNumericLabel(x);
    const yNumeric = isNumericLabel(y);
    let order: number;
    if (xNumeric && yNumeric) order = compareDigitRuns(x, y);
    else if (xNumeric !== yNumeric) order = xNumeric ? -1 : 1;
    else order = compareCodeUnits(x.toUpperCase(), y.toUpperCase());
    if (order !== 0) return order;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareNuGetVersions(a: string, b: string): number {
  const va = parseNuGetVersion(a);
  const vb = parseNuGetVersion(b);
  if (!va || !vb) {
    if (va || vb) return va ? 1 : -1;
    return compareCodeUnits(a, b);
  }
  for (let i = 0; i < 4; i++) {
    const order = compareDigitRuns(va.numbers[i] ?? '0', vb.numbers[i] ?? '0');
    if (order !== 0) return order;
  }
  return compareLabels(va.labels, vb.labels);
}

export const nugetVersions: VersionComparator = {
  scheme: 'nuget',
  compare: compareNuGetVersions,
  valid: (version) => parseNuGetVersion(version) !== null,
};

import type { VersionComparator } from '../model.js';
import { comparePrerelease } from './semver.js';
import { compareCodeUnits, compareDigitRuns, isAlnumCode, isDigits } from './text.js';

/**
 * Go module versions, ordered like `golang.org/x/mod/semver`: SemVer with a `v` prefix, the shorthands `v1` and
 * `v1.2` (= `v1.0.0`, `v1.2.0`), build metadata ignored (so `v2.0.0+incompatible` = `v2.0.0`).
 *
 * Pseudo-versions need no special case: `v0.0.0-20210101000000-abcdef123456`, `v1.2.4-0.2021…-…` and
 * `v1.2.3-pre.0.2021…-…` are pre-releases whose timestamp and hash order them after their base and before the
 * next release, exactly as SemVer pre-release rules say.
 *
 * OSV's Go records write versions without the `v` (`"fixed": "1.6.0"`, `"introduced": "1.22.0-0"`), so a missing
 * `v` is tolerated. Like Go, invalid strings sort before every valid version; unlike Go (which calls them all
 * equal) they are ordered among themselves by their raw text, so sorting stays deterministic.
 */

export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string | null;
}

function isNumber(s: string): boolean {
  return isDigits(s) && (s.length === 1 || s.charCodeAt(0) !== 0x30);
}

function isIdentifierChar(c: number): boolean {
  return isAlnumCode(c) || c === 0x2d;
}

function areIdentifiers(s: string, numbersCanonical: boolean): boolean {
  return s.split('.').every((id) => {
    if (id === '') return false;
    for (let i = 0; i < id.length; i++) if (!isIdentifierChar(id.charCodeAt(i))) return false;
    return !numbersCanonical || !isDigits(id) || isNumber(id);
  });
}

/** Parses a Go module version (the `v` is optional here); `null` when x/mod/semver would reject it. */
export function parseGoVersion(version: string): GoVersion | null {
  const text = version.startsWith('v') ? version.slice(1) : version;
  let rest = text;
  let build: string | null = null;
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
    if (!areIdentifiers(build, false)) return null;
  }
  let prerelease: string[] = [];
  const hyphen = rest.indexOf('-');
  if (hyphen >= 0) {
    const pre = rest.slice(hyphen + 1);
    rest = rest.slice(0, hyphen);
    if (!areIdentifiers(pre, true)) return null;
    prerelease = pre.split('.');
  }
  const parts = rest.split('.');
  if (parts.length > 3 || !parts.every(isNumber)) return null;
  // the shorthands v1 and v1.2 take neither a pre-release nor build metadata
  if (parts.length < 3 && (prerelease.length > 0 || build !== null)) return null;
  const [major = '0', minor = '0', patch = '0'] = parts;
  return { major, minor, patch, prerelease, build };
}

export function compareGoVersions(a: string, b: string): number {
  const va = parseGoVersion(a);
  const vb = parseGoVersion(b);
  if (!va || !vb) {
    if (va || vb) return va ? 1 : -1;
    return compareCodeUnits(a, b);
  }
  return (
    compareDigitRuns(va.major, vb.major) ||
    compareDigitRuns(va.minor, vb.minor) ||
    compareDigitRuns(va.patch, vb.patch) ||
    comparePrerelease(va.prerelease, vb.prerelease)
  );
}

/** True for a pseudo-version (`vX.Y.Z-[pre.]0.yyyymmddhhmmss-abcdefabcdef` or `vX.0.0-yyyymmddhhmmss-…`). */
export function isGoPseudoVersion(version: string): boolean {
  const v = parseGoVersion(version);
  if (!v || v.prerelease.length === 0) return false;
  return /(?:^|[.-])(?:0\.)?\d{14}-[0-9a-f]{12}$/.test(v.prerelease.join('.'));
}

export const goVersions: VersionComparator = {
  scheme: 'go',
  compare: compareGoVersions,
  valid: (version) => parseGoVersion(version) !== null,
};

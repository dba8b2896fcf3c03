/**
 * One version comparator per scheme (DESIGN.md §6 "Feed / Comparator"), the scheme each advisory ecosystem uses,
 * and OSV range membership. Matching code needs only this module:
 *
 *   const scheme = schemeForEcosystem('debian:12');            // 'dpkg'
 *   if (scheme && inRange(comparatorFor(scheme), installed, { introduced: '0', fixed: '3.0.11-1~deb12u2' })) …
 */
import type { Ecosystem, VersionComparator, VersionRange, VersionScheme } from '../model.js';
import { apkVersions } from './apk.js';
import { dpkgVersions } from './dpkg.js';
import { gemVersions } from './gem.js';
import { goVersions } from './go.js';
import { mavenVersions } from './maven.js';
import { nugetVersions } from './nuget.js';
import { pep440Versions } from './pep440.js';
import { rpmVersions } from './rpm.js';
import { semverVersions } from './semver.js';

export { apkVersions } from './apk.js';
export { dpkgVersions } from './dpkg.js';
export { gemBump, gemVersions, isGemPrerelease, parseGemRequirement, satisfiesGemRequirement, type GemOperator, type GemRequirement } from './gem.js';
export { goVersions, isGoPseudoVersion } from './go.js';
export { mavenVersions } from './maven.js';
export { nugetVersions } from './nuget.js';
export { normalizePep440, pep440Versions } from './pep440.js';
export { rpmVersions } from './rpm.js';
export {
  parseNpmRange,
  parseSemver,
  satisfiesNpmRange,
  semverVersions,
  type NpmComparator,
  type NpmRange,
  type NpmRangeOptions,
  type RangeOperator,
  type SemVer,
} from './semver.js';

const COMPARATORS: Record<VersionScheme, VersionComparator> = {
  dpkg: dpkgVersions,
  apk: apkVersions,
  rpm: rpmVersions,
  semver: semverVersions,
  pep440: pep440Versions,
  maven: mavenVersions,
  go: goVersions,
  gem: gemVersions,
  nuget: nugetVersions,
};

export function comparatorFor(scheme: VersionScheme): VersionComparator {
  return COMPARATORS[scheme];
}

/** OS release ecosystems (`<os-release ID>:<release>`) by distribution ID. */
const OS_SCHEMES: ReadonlyMap<string, VersionScheme> = new Map([
  ...['debian', 'ubuntu', 'devuan', 'raspbian', 'kali', 'linuxmint', 'pop', 'elementary'].map((id) => [id, 'dpkg'] as const),
  ...['alpine', 'wolfi', 'chainguard', 'postmarketos'].map((id) => [id, 'apk'] as const),
  ...[
    'rhel', 'redhat', 'centos', 'rocky', 'alma', 'almalinux', 'amazon', 'amzn', 'fedora', 'ol', 'oracle', 'sles',
    'sled', 'suse', 'mariner', 'azurelinux', 'photon', 'openeuler', 'anolis', 'euleros', 'circle', 'cbl-mariner',
  ].map((id) => [id, 'rpm'] as const),
]);

/**
 * Language ecosystems as `packageKey` names them. Packagist uses the lenient SemVer comparator: a `v` prefix and a
 * fourth numeric component (`2.1.0.3`) are understood, and pre-releases order like SemVer's — numeric releases,
 * which is what advisories name, compare exactly as Composer does, but Composer's stability words are not ranked
 * (`RC1` sorts before `beta1` by ASCII, where Composer puts it after).
 */
const LANGUAGE_SCHEMES: ReadonlyMap<string, VersionScheme> = new Map([
  ['npm', 'semver'],
  ['pypi', 'pep440'],
  ['maven', 'maven'],
  ['go', 'go'],
  ['rubygems', 'gem'],
  ['crates.io', 'semver'],
  ['nuget', 'nuget'],
  ['packagist', 'semver'],
]);

/**
 * The version scheme of an advisory ecosystem: `debian:12` → dpkg, `alpine:3.19` → apk, `rhel:9` → rpm,
 * `opensuse-leap:15` → rpm, `pypi` → pep440 …; `null` for an ecosystem without a known scheme.
 */
export function schemeForEcosystem(ecosystem: Ecosystem): VersionScheme | null {
  const name = ecosystem.toLowerCase();
  const colon = name.indexOf(':');
  if (colon < 0) return LANGUAGE_SCHEMES.get(name) ?? OS_SCHEMES.get(name) ?? null;
  const distro = name.slice(0, colon);
  if (distro.startsWith('opensuse')) return 'rpm';
  return OS_SCHEMES.get(distro) ?? null;
}

/**
 * OSV range membership: at or after `introduced` (absent, empty or `"0"` = from the very first version), and
 * before `fixed` (exclusive) and at or before `lastAffected` (inclusive) when they are given; with neither, every
 * later version is affected.
 */
export function inRange(comparator: VersionComparator, version: string, range: VersionRange): boolean {
  const { introduced } = range;
  if (introduced !== undefined && introduced !== '' && introduced !== '0' && comparator.compare(version, introduced) < 0) {
    return false;
  }
  if (range.fixed !== undefined && range.fixed !== '' && comparator.compare(version, range.fixed) >= 0) return false;
  if (range.lastAffected !== undefined && range.lastAffected !== '' && comparator.compare(version, range.lastAffected) > 0) {
    return false;
  }
  return true;
}

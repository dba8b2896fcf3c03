/**
 * The one internal shape every advisory feed is imported into (DESIGN.md §6 "Feed / Comparator"): matching never
 * knows which feed a record came from. Modelled on OSV, the lingua franca of the feeds.
 */

/**
 * Where a package lives, as the matcher keys it:
 * - OS distributions with their release: `debian:12`, `ubuntu:22.04`, `alpine:3.19`, `rhel:9`, …
 *   (Alpine keeps major.minor only; Debian and Ubuntu their VERSION_ID.)
 * - language ecosystems, lower case: `npm`, `pypi`, `go`, `maven`, `rubygems`, `crates.io`, `nuget`, `packagist`.
 */
export type Ecosystem = string;

/** Version schemes, one comparator each (src/vuln/versions/). */
export type VersionScheme = 'dpkg' | 'apk' | 'rpm' | 'semver' | 'pep440' | 'maven' | 'go' | 'gem' | 'nuget';

/** One OSV-style range: affected from `introduced` (inclusive; absent or "0" = from the beginning) until `fixed`
 * (exclusive) or through `lastAffected` (inclusive); neither means still unfixed. */
export interface VersionRange {
  introduced?: string;
  fixed?: string;
  lastAffected?: string;
}

export interface AffectedPackage {
  ecosystem: Ecosystem;
  /**
   * The name matched against: the source package for OS feeds (Debian `Source:`, Alpine origin, rpm source name),
   * the normalised name for language ecosystems (PEP 503 for PyPI, `group:artifact` for Maven, module path for Go,
   * `@scope/name` for npm, lower case for NuGet).
   */
  name: string;
  /**
   * `affected`: ranges/versions say which versions are vulnerable.
   * `not-affected`: the feed states this package is not affected (e.g. Debian tracker "not-affected"): never match.
   * `unfixed`: vulnerable in every version, no fix yet (ranges may be empty).
   * `ignored`: the distro decided not to fix (Debian `<no-dsa>`, `<ignored>`, `<postponed>`): vulnerable, flagged.
   */
  status: 'affected' | 'not-affected' | 'unfixed' | 'ignored';
  ranges: VersionRange[];
  /** Explicit vulnerable versions (OSV `versions`), matched exactly in addition to the ranges. */
  versions?: string[];
  /** The distro's urgency or other per-package rating, when the feed has one. */
  severity?: string;
}

export interface AdvisoryRecord {
  /** The CVE where one exists, else the source's own id. */
  id: string;
  /** Every other identifier of the same advisory (DSA-, DLA-, GHSA-, GO-, PYSEC-, RUSTSEC-, MAL-, OSV ids …). */
  aliases: string[];
  /** Which feed: `osv`, `alpine-secdb`, `debian-tracker`, `debian-dsa`, `ghsa`, `nodejs-security-wg`, `rubysec`, … */
  source: string;
  /** The id the source uses (DSA-5000-1, GHSA-xxxx, …), shown as the vulnerability's `source`. */
  sourceId: string;
  summary?: string;
  published?: string;
  modified?: string;
  /** CVSS vectors and the source's own rating (GHSA `database_specific.severity`, distro urgency …). */
  severity?: {
    cvssV3?: string;
    cvssV4?: string;
    cvssV2?: string;
    /** Score given without a vector (e.g. nodejs security WG `cvss_score`). */
    score?: number;
    rating?: string;
  };
  /** A malicious-package record (OSV `MAL-`): reported as a finding, not a vulnerability. */
  malicious?: boolean;
  references?: string[];
  affected: AffectedPackage[];
}

/** A feed importer: one upstream format → advisory records. */
export interface FeedImporter {
  /** e.g. `osv`, `alpine-secdb`, `debian-tracker-json`. */
  readonly name: string;
  /** Cheap test on a file's path and first bytes: is it this format? Used when `--from` points at a directory. */
  detect(path: string, head: Buffer): boolean;
  /** Streams records from one file (bounded memory: records are yielded as they are parsed where the format allows). */
  read(path: string, notice: (message: string) => void): AsyncIterable<AdvisoryRecord>;
}

/** A comparator orders versions of one scheme; `valid` says whether a string is a version of that scheme at all. */
export interface VersionComparator {
  readonly scheme: VersionScheme;
  compare(a: string, b: string): number;
  valid(version: string): boolean;
}

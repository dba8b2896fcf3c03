/**
 * What matching found for one image, as a digest a rematch can check without reading the image's report.
 *
 * An image's vulnerabilities and malicious-package advisories are a function of its packages' match keys (ecosystem,
 * name, version: `packageKey`) and of what the advisory DB says about each key. The digest covers, per key with any
 * hit, every advisory that applies to it (its ids, fix, severity, title) and, beside them, the digest of what the verdict
 * is judged by (rules and ignore entries). Stored with the image's keys, it lets `detonate rematch` work out the digest
 * under a new DB from the keys alone (each key once per DB): the same digest means matching and judging again would
 * give the same vulnerabilities and the same verdict, so the image needs no report read and no new scan.
 *
 * Both sides describe a hit the same way: `reportMatchSummary` from a stored report (its vulnerabilities and
 * malicious-package findings, suppressed ones included, tied to their package by purl), `dbMatchFingerprint` from
 * the DB. Where a report cannot be read that way (a hit naming no listed package), there is no summary, and the image
 * is always matched again in full. A mismatch only costs time: equal digests are the only shortcut.
 */
import { createHash } from 'node:crypto';
import type { Finding, OsInfo, Package, Report, Vulnerability } from '../model/index.js';
import type { AdvisoryDb } from './db.js';
import { packageKey, type PackageKey } from './ecosystem.js';
import { keyMatch, type KeyMatch } from './match.js';
import { isMaliciousPackageFinding } from './stage.js';

export interface MatchSummary {
  /** The image's distinct match keys, each `JSON.stringify([ecosystem, name, version])`, sorted. */
  keys: string[];
  fingerprint: string;
}

/** A key as text: JSON, so that no package name (NUL, quotes, separators) can make two keys one, and PostgreSQL can hold it. */
export function matchKeyText(key: PackageKey): string {
  return JSON.stringify([key.ecosystem, key.name, key.version]);
}

function parseKeyText(text: string): PackageKey | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === 'string')) return null;
    const [ecosystem, name, version] = parsed as [PackageKey['ecosystem'], string, string];
    return { ecosystem, name, version };
  } catch {
    return null;
  }
}

type Hit = Pick<Vulnerability, 'id' | 'aliases' | 'fixedVersion' | 'severity' | 'severitySource' | 'cvss' | 'source' | 'title' | 'wontFix'>;

function vulnerabilityEntry(v: Hit): string {
  return JSON.stringify([
    'v', v.id, [...v.aliases].sort(), v.fixedVersion ?? null, v.severity, v.severitySource || null,
    v.cvss ? [v.cvss.score, v.cvss.vector] : null, v.source, v.title || null, v.wontFix === true,
  ]);
}

function maliciousEntry(advisory: string, aliases: readonly string[], summary: string | null | undefined): string {
  return JSON.stringify(['m', advisory, [...aliases].sort(), summary || null]);
}

function keyDigest(entries: Iterable<string>): string {
  return createHash('sha256').update([...new Set(entries)].sort().join('\n')).digest('base64');
}

function fingerprintOf(judgingDigest: string, digests: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256').update(judgingDigest);
  for (const key of [...digests.keys()].sort()) hash.update(`\n${key}\t${digests.get(key)!}`);
  return hash.digest('hex');
}

/** The distinct match keys of an inventory, sorted. */
export function inventoryMatchKeys(packages: readonly Package[], os: OsInfo | null | undefined): string[] {
  const keys = new Set<string>();
  for (const pkg of packages) {
    const key = packageKey(pkg, os);
    if (key) keys.add(matchKeyText(key));
  }
  return [...keys].sort();
}

/** The keys and digest of a stored report's matches; null when a hit cannot be tied to a listed package. */
export function reportMatchSummary(report: Report, judgingDigest: string): MatchSummary | null {
  const os = report.image.os ?? null;
  const keyOfPurl = new Map<string, string>();
  for (const pkg of report.packages) {
    const key = packageKey(pkg, os);
    if (key) keyOfPurl.set(pkg.purl, matchKeyText(key));
  }
  const entries = new Map<string, string[]>();
  const add = (purl: unknown, entry: string): boolean => {
    const key = typeof purl === 'string' ? keyOfPurl.get(purl) : undefined;
    if (!key) return false;
    const list = entries.get(key) ?? [];
    list.push(entry);
    entries.set(key, list);
    return true;
  };
  const suppressed = report.suppressed ?? [];
  const vulnerabilities = [...report.vulnerabilities, ...suppressed.flatMap((s) => (s.vulnerability ? [s.vulnerability] : []))];
  for (const v of vulnerabilities) if (!add(v.purl, vulnerabilityEntry(v))) return null;
  const findings: Finding[] = [...report.findings, ...suppressed.flatMap((s) => (s.finding ? [s.finding] : []))];
  for (const f of findings.filter(isMaliciousPackageFinding)) {
    const e = f.evidence ?? {};
    if (typeof e.advisory !== 'string') return null;
    const aliases = Array.isArray(e.aliases) ? e.aliases.filter((a): a is string => typeof a === 'string') : [];
    if (!add(e.purl, maliciousEntry(e.advisory, aliases, typeof e.summary === 'string' ? e.summary : null))) return null;
  }
  const digests = new Map([...entries].map(([key, list]) => [key, keyDigest(list)]));
  return { keys: inventoryMatchKeys(report.packages, os), fingerprint: fingerprintOf(judgingDigest, digests) };
}

function keyHitsDigest(match: KeyMatch | null): string | null {
  if (!match || (match.vulnerabilities.length === 0 && match.malicious.length === 0)) return null;
  return keyDigest([...match.vulnerabilities.map(vulnerabilityEntry), ...match.malicious.map((a) => maliciousEntry(a.sourceId, a.aliases, a.summary))]);
}

/** The digest `reportMatchSummary` would give for an image with these keys, matched against `db` and judged by `judgingDigest`. */
export function dbMatchFingerprint(db: AdvisoryDb, keys: readonly string[], judgingDigest: string): string {
  const digests = new Map<string, string>();
  for (const text of keys) {
    const digest = db.memo(`fingerprint\u0000${text}`, () => {
      const key = parseKeyText(text);
      return key ? keyHitsDigest(keyMatch(db, key)) : null;
    });
    if (digest !== null) digests.set(text, digest);
  }
  return fingerprintOf(judgingDigest, digests);
}

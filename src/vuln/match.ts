import type { Finding, OsInfo, Package, Vulnerability, VulnerabilitySeverity } from '../model/index.js';
import type { AdvisoryDb, AdvisoryHit } from './db.js';
import type { AdvisoryRecord, AffectedPackage, VersionComparator, VersionRange } from './model.js';
import { packageKey, type PackageKey } from './ecosystem.js';
import { comparatorFor, inRange, schemeForEcosystem } from './versions/index.js';
import { severityFromRating, severityFromScore, tryScoreVector } from './severity/index.js';

export interface MatchResult {
  vulnerabilities: Vulnerability[];
  /** Packages that OSV `MAL-` records name: findings, not vulnerabilities. */
  findings: Omit<Finding, 'removedInLayer'>[];
}

const SEVERITY_RANK: Record<VulnerabilitySeverity, number> = { critical: 4, high: 3, moderate: 2, low: 1, unknown: 0 };

/** Is `version` vulnerable per this affected entry; and the fix that applies to it. */
export function affects(affected: AffectedPackage, version: string, cmp: VersionComparator): { vulnerable: boolean; fixed: string | null } {
  if (affected.status === 'not-affected') return { vulnerable: false, fixed: null };
  if (affected.status === 'unfixed' || affected.status === 'ignored') {
    // a distro entry may still name the ranges it knows about; without any, every version is affected
    if (affected.ranges.length === 0) return { vulnerable: true, fixed: null };
  }
  if (affected.versions?.some((v) => cmp.compare(v, version) === 0)) {
    return { vulnerable: true, fixed: nextFix(affected.ranges, version, cmp) };
  }
  for (const range of affected.ranges) {
    if (inRange(cmp, version, range)) return { vulnerable: true, fixed: range.fixed ?? null };
  }
  return { vulnerable: false, fixed: null };
}

function nextFix(ranges: VersionRange[], version: string, cmp: VersionComparator): string | null {
  const fixes = ranges.map((r) => r.fixed).filter((f): f is string => !!f && cmp.compare(f, version) > 0);
  fixes.sort((a, b) => cmp.compare(a, b));
  return fixes[0] ?? null;
}

/** Severity from the best evidence: a CVSS vector (v3 preferred, then v4, v2), else the source's rating. */
export function advisorySeverity(advisory: Omit<AdvisoryRecord, 'affected'>, affected: AffectedPackage): {
  severity: VulnerabilitySeverity;
  source?: string;
  cvss?: { score: number; vector: string };
} {
  const s = advisory.severity;
  for (const vector of [s?.cvssV3, s?.cvssV4, s?.cvssV2]) {
    if (!vector) continue;
    const scored = tryScoreVector(vector);
    if (scored) return { severity: severityFromScore(scored.score, scored.version), source: `cvss:${scored.version}`, cvss: { score: scored.score, vector: scored.vector } };
  }
  if (typeof s?.score === 'number') return { severity: severityFromScore(s.score, '3.1'), source: `${advisory.source}-score` };
  for (const [rating, source] of [[s?.rating, advisory.source], [affected.severity, `${advisory.source}-urgency`]] as const) {
    if (!rating) continue;
    const severity = severityFromRating(rating);
    if (severity !== 'unknown') return { severity, source };
  }
  return { severity: 'unknown' };
}

/** What the advisories say about one (ecosystem, name, version): the same for every package and image that has it. */
export interface KeyMatch {
  /** Malicious-package advisories that apply, in the DB's order. */
  malicious: Array<Omit<AdvisoryRecord, 'affected'>>;
  vulnerabilities: Array<Pick<Vulnerability, 'id' | 'aliases' | 'fixedVersion' | 'severity' | 'severitySource' | 'cvss' | 'source' | 'title' | 'wontFix'>>;
}

/**
 * Matches a report's packages against the advisory DB. OS packages are looked up by source package in their
 * distro release, language packages by normalised name; several feeds describing the same advisory for the same
 * package become one vulnerability with every alias, the best severity evidence and the known fix. What applies to
 * one (ecosystem, name, version) is worked out once per open DB (`db.memo`): images share most of their packages,
 * and a store's worth of them is matched again after every `db update`.
 */
export function matchPackages(db: AdvisoryDb, packages: readonly Package[], os: OsInfo | null): MatchResult {
  const vulnerabilities: Vulnerability[] = [];
  const findings: MatchResult['findings'] = [];
  for (const pkg of packages) {
    const key = packageKey(pkg, os);
    if (!key) continue;
    const match = keyMatch(db, key);
    if (!match) continue;
    for (const advisory of match.malicious) {
      findings.push({
        category: 'malicious-package',
        severity: 'critical',
        title: `malicious package ${pkg.name}@${pkg.version} (${advisory.sourceId})`,
        source: 'static',
        rule: `advisory:${advisory.sourceId}`,
        path: pkg.paths[0],
        layer: pkg.layer,
        attack: ['T1195.002'],
        evidence: { advisory: advisory.sourceId, aliases: advisory.aliases, package: pkg.name, version: pkg.version, purl: pkg.purl, summary: advisory.summary },
      });
    }
    for (const v of match.vulnerabilities) {
      vulnerabilities.push({
        id: v.id,
        aliases: [...v.aliases],
        package: pkg.name,
        purl: pkg.purl,
        installedVersion: pkg.version,
        fixedVersion: v.fixedVersion,
        severity: v.severity,
        ...(v.severitySource ? { severitySource: v.severitySource } : {}),
        cvss: v.cvss ? { ...v.cvss } : null,
        source: v.source,
        layer: pkg.layer,
        ...(v.title ? { title: v.title } : {}),
        ...(v.wontFix ? { wontFix: true } : {}),
      });
    }
  }
  vulnerabilities.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.package.localeCompare(b.package) || a.id.localeCompare(b.id));
  return { vulnerabilities, findings };
}

/** What applies to one (ecosystem, name, version), worked out once per open DB. */
export function keyMatch(db: AdvisoryDb, key: PackageKey): KeyMatch | null {
  return db.memo(`${key.ecosystem}\u0000${key.name}\u0000${key.version}`, () => matchKey(db, key.ecosystem, key.name, key.version));
}

/** The advisories that apply to `version` of `name` in `ecosystem`; null when none could (no scheme, no record). */
function matchKey(db: AdvisoryDb, ecosystem: PackageKey['ecosystem'], name: string, version: string): KeyMatch | null {
  const scheme = schemeForEcosystem(ecosystem);
  if (!scheme) return null;
  const cmp = comparatorFor(scheme);
  const hits = db.find(ecosystem, name);
  if (hits.length === 0) return null;
  const malicious: KeyMatch['malicious'] = [];
  // a feed that says "not affected" for this package outweighs generic ranges from others
  const notAffected = new Set(hits.filter((h) => h.affected.status === 'not-affected').flatMap((h) => [h.advisory.id, ...h.advisory.aliases]));
  const byAdvisory = new Map<string, { hits: AdvisoryHit[]; fixed: string | null }>();
  for (const hit of hits) {
    if (notAffected.has(hit.advisory.id)) continue;
    const verdict = affects(hit.affected, version, cmp);
    if (!verdict.vulnerable) continue;
    if (hit.advisory.malicious) {
      malicious.push(hit.advisory);
      continue;
    }
    const entry = byAdvisory.get(hit.advisory.id) ?? { hits: [], fixed: null };
    entry.hits.push(hit);
    if (verdict.fixed && (!entry.fixed || cmp.compare(verdict.fixed, entry.fixed) < 0)) entry.fixed = verdict.fixed;
    byAdvisory.set(hit.advisory.id, entry);
  }
  const vulnerabilities: KeyMatch['vulnerabilities'] = [];
  for (const [id, { hits: group, fixed }] of byAdvisory) {
    const aliases = new Set<string>();
    for (const h of group) for (const a of [h.advisory.sourceId, ...h.advisory.aliases]) if (a !== id) aliases.add(a);
    let best: ReturnType<typeof advisorySeverity> = { severity: 'unknown' };
    for (const h of group) {
      const s = advisorySeverity(h.advisory, h.affected);
      // prefer CVSS evidence, then the higher rating
      const better = (s.cvss && !best.cvss) || (!!s.cvss === !!best.cvss && SEVERITY_RANK[s.severity] > SEVERITY_RANK[best.severity]);
      if (better) best = s;
    }
    const primary = group.find((h) => h.advisory.sourceId !== id) ?? group[0]!;
    vulnerabilities.push({
      id,
      aliases: [...aliases].sort(),
      fixedVersion: fixed,
      severity: best.severity,
      ...(best.source ? { severitySource: best.source } : {}),
      cvss: best.cvss ?? null,
      source: primary.advisory.sourceId,
      ...(primary.advisory.summary ? { title: primary.advisory.summary } : {}),
      ...(group.every((h) => h.affected.status === 'ignored') ? { wontFix: true } : {}),
    });
  }
  return { malicious, vulnerabilities };
}

export function countBySeverity(vulns: readonly Vulnerability[]): Record<VulnerabilitySeverity, number> {
  const counts: Record<VulnerabilitySeverity, number> = { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 };
  for (const v of vulns) counts[v.severity]++;
  return counts;
}

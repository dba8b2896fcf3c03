import type { AdvisoryDbInfo, Finding, OsInfo, Package, ScanNotice, Vulnerability } from '../model/index.js';
import type { AdvisoryDb } from './db.js';
import { matchPackages } from './match.js';

/** A DB older than this still matches, with a warning in the report. */
export const STALE_AFTER_DAYS = 7;

const NOT_CHECKED = 'vulnerabilities not checked: ';
const STALE_DB = /^the advisory database is \S+ days old \(built /;
/** Rules of the malicious-package findings this stage makes: `advisory:` + the advisory's id. */
const ADVISORY_RULE = 'advisory:';

/** A notice this stage writes (no DB, or a stale one): what a stored report's notices hold of this stage. */
export function isVulnerabilityStageNotice(notice: ScanNotice): boolean {
  return notice.message.startsWith(NOT_CHECKED) || STALE_DB.test(notice.message);
}

/** A finding this stage makes: a package an advisory names as malicious. */
export function isMaliciousPackageFinding(finding: Finding): boolean {
  return finding.category === 'malicious-package' && finding.rule.startsWith(ADVISORY_RULE);
}

/** What the vulnerability stage returns for one image. */
export interface VulnerabilityResult {
  /** The DB matched against; null when none was available (`notices` says why). */
  advisoryDb: AdvisoryDbInfo | null;
  vulnerabilities: Vulnerability[];
  /** Packages the advisories name as malicious (`malicious-package` findings). */
  findings: Finding[];
  notices: ScanNotice[];
}

/**
 * The vulnerability stage: matches an image's packages (as the static stage listed them: stored inventories can be
 * matched again without reading a layer) against the advisory DB. Without a DB it says why nothing was checked.
 */
export function matchVulnerabilities(
  inventory: { packages: readonly Package[]; os: OsInfo | null },
  db: AdvisoryDb | null,
  unavailable?: string,
  now = new Date(),
): VulnerabilityResult {
  if (!db) {
    return { advisoryDb: null, vulnerabilities: [], findings: [], notices: [{ level: 'warning', message: `${NOT_CHECKED}${unavailable ?? 'no advisory database'}` }] };
  }
  const status = db.status();
  const ageDays = (now.getTime() - Date.parse(status.builtAt)) / 86_400_000;
  const stale = !(ageDays <= STALE_AFTER_DAYS);
  const notices: ScanNotice[] = stale
    ? [{ level: 'warning', message: `the advisory database is ${Number.isFinite(ageDays) ? Math.floor(ageDays) : '?'} days old (built ${status.builtAt}); run \`detonate db update\` for current advisories` }]
    : [];
  const { vulnerabilities, findings } = matchPackages(db, [...inventory.packages], inventory.os);
  return {
    advisoryDb: { builtAt: status.builtAt, sources: [...new Set(status.sources.map((s) => s.origin))], ...(stale ? { stale: true } : {}) },
    vulnerabilities,
    findings: findings.map((f) => ({ ...f, removedInLayer: null })),
    notices,
  };
}

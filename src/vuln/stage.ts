import type { Report } from '../model/index.js';
import type { AdvisoryDb } from './db.js';
import { countBySeverity, matchPackages } from './match.js';

/** A DB older than this still matches, with a warning in the report. */
export const STALE_AFTER_DAYS = 7;

/**
 * The vulnerability stage: matches the report's packages, fills `vulnerabilities`, the verdict's counts and the
 * advisory DB's identity, and adds malicious-package findings (the verdict is decided by src/verdict/verdict.ts). Without a DB the report says why nothing was checked.
 */
export function applyVulnerabilities(report: Report, db: AdvisoryDb | null, unavailable?: string, now = new Date()): Report {
  const notices = report.notices ?? (report.notices = []);
  if (!db) {
    report.tool.advisoryDb = null;
    notices.push({ level: 'warning', message: `vulnerabilities not checked: ${unavailable ?? 'no advisory database'}` });
    return report;
  }
  const status = db.status();
  const ageDays = (now.getTime() - Date.parse(status.builtAt)) / 86_400_000;
  const stale = !(ageDays <= STALE_AFTER_DAYS);
  report.tool.advisoryDb = { builtAt: status.builtAt, sources: [...new Set(status.sources.map((s) => s.origin))], ...(stale ? { stale: true } : {}) };
  if (stale) {
    notices.push({ level: 'warning', message: `the advisory database is ${Number.isFinite(ageDays) ? Math.floor(ageDays) : '?'} days old (built ${status.builtAt}); run \`detonate db update\` for current advisories` });
  }
  const { vulnerabilities, findings } = matchPackages(db, report.packages, report.image.os ?? null);
  report.vulnerabilities = vulnerabilities;
  // Counts only: the verdict (categories, malicious, summary) is decided once, at the end of the scan.
  report.verdict.vulnerabilities = countBySeverity(vulnerabilities);
  if (findings.length > 0) report.findings.push(...findings.map((f) => ({ ...f, removedInLayer: null })));
  return report;
}

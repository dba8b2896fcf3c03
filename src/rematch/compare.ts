/**
 * What a rematch changed for one image: the vulnerabilities and malicious-package advisories that now apply and did
 * not before, those that no longer apply, and the verdict before and after. A pure function of the two reports.
 */
import type { Finding, Report, Vulnerability } from '../model/index.js';
import type { ChangeItem, ImageChange, VerdictState } from '../store/rematch.js';
import { isMaliciousPackageFinding } from '../vuln/stage.js';

const vulnerabilityKey = (v: Vulnerability) => `${v.id}\u0000${v.package}\u0000${v.installedVersion}`;

function vulnerabilityItem(change: ChangeItem['change'], v: Vulnerability): ChangeItem {
  return { change, kind: 'vulnerability', id: v.id, package: v.package, installedVersion: v.installedVersion, severity: v.severity, fixedVersion: v.fixedVersion };
}

/** A malicious-package finding's advisory, package and version (its evidence, as the vulnerability stage writes it). */
function maliciousItem(change: ChangeItem['change'], f: Finding): ChangeItem {
  const e = f.evidence ?? {};
  const text = (value: unknown, otherwise: string) => (typeof value === 'string' ? value : otherwise);
  return {
    change, kind: 'malicious-package', id: text(e.advisory, f.rule.replace(/^advisory:/, '')), package: text(e.package, f.path ?? ''),
    installedVersion: text(e.version, ''), severity: f.severity, fixedVersion: null,
  };
}
const maliciousKey = (i: ChangeItem) => `${i.id}\u0000${i.package}\u0000${i.installedVersion}`;

function added<T>(before: readonly T[], after: readonly T[], key: (t: T) => string): T[] {
  const had = new Set(before.map(key));
  const seen = new Set<string>();
  return after.filter((t) => {
    const k = key(t);
    if (had.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function verdictState(report: Report): VerdictState {
  return { malicious: report.verdict.malicious, categories: [...report.verdict.categories], summary: report.verdict.summary };
}

/** Vulnerabilities in both whose severity or fix differs: `changed` items with what they were. */
function revised(before: readonly Vulnerability[], after: readonly Vulnerability[]): ChangeItem[] {
  const was = new Map(before.map((v) => [vulnerabilityKey(v), v]));
  const seen = new Set<string>();
  const out: ChangeItem[] = [];
  for (const v of after) {
    const key = vulnerabilityKey(v);
    const old = was.get(key);
    if (!old || seen.has(key) || (old.severity === v.severity && old.fixedVersion === v.fixedVersion)) continue;
    seen.add(key);
    out.push({ ...vulnerabilityItem('changed', v), previous: { severity: old.severity, fixedVersion: old.fixedVersion } });
  }
  return out;
}

/** The change from `before` to `after` (the same image matched against another advisory DB), or null when none. */
export function imageChange(before: Report, after: Report): ImageChange | null {
  const malicious = (r: Report) => r.findings.filter(isMaliciousPackageFinding).map((f) => maliciousItem('added', f));
  const [mBefore, mAfter] = [malicious(before), malicious(after)];
  const items: ChangeItem[] = [
    ...added(before.vulnerabilities, after.vulnerabilities, vulnerabilityKey).map((v) => vulnerabilityItem('added', v)),
    ...added(after.vulnerabilities, before.vulnerabilities, vulnerabilityKey).map((v) => vulnerabilityItem('removed', v)),
    ...revised(before.vulnerabilities, after.vulnerabilities),
    ...added(mBefore, mAfter, maliciousKey),
    ...added(mAfter, mBefore, maliciousKey).map((i) => ({ ...i, change: 'removed' as const })),
  ];
  const [was, is] = [verdictState(before), verdictState(after)];
  const verdictChanged = was.malicious !== is.malicious || was.categories.join() !== is.categories.join();
  return items.length > 0 || verdictChanged ? { before: was, after: is, items } : null;
}

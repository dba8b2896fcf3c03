/** The ignore file on vulnerabilities and findings: what an entry covers, and what it must not. */
import { describe, expect, it } from 'vitest';
import type { Finding, Report, Vulnerability } from '../../src/model/index.js';
import { parseIgnoreFile } from '../../src/verdict/index.js';
import { judgeReport } from '../support/judge.js';

const vuln = (id: string, pkg: string, severity: Vulnerability['severity'], aliases: string[] = []): Vulnerability => ({
  id, aliases, package: pkg, purl: `pkg:deb/debian/${pkg}@1.0-1?arch=amd64&distro=debian-12`, installedVersion: '1.0-1', fixedVersion: null, severity, source: 'DSA-1', layer: 0,
});
const finding = (f: Partial<Finding> & Pick<Finding, 'rule' | 'category' | 'severity'>): Finding => ({ title: f.rule, source: 'static', ...f });

function report(): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: 'test', advisoryDb: { builtAt: '2026-11-01T00:00:00Z', sources: ['debian'] } },
    image: { reference: 'x', digest: 'sha256:0', platform: 'linux/amd64', layers: [], config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {} } },
    packages: [],
    vulnerabilities: [vuln('CVE-2024-1', 'libssl3', 'critical', ['DSA-5555-1']), vuln('CVE-2024-2', 'libssl3', 'high'), vuln('CVE-2024-3', 'zlib1g', 'low')],
    findings: [
      finding({ rule: 'yara/Cryptominer_XMRig', category: 'cryptominer', severity: 'critical', path: 'opt/tests/xmrig' }),
      finding({ rule: 'yara/Cryptominer_XMRig', category: 'cryptominer', severity: 'critical', path: 'usr/bin/kdevtmpfsi' }),
      finding({ rule: 'advisory:MAL-2024-9', category: 'malicious-package', severity: 'critical', path: 'app/node_modules/evil/package.json', evidence: { package: 'evil', purl: 'pkg:npm/evil@1.0.0' } }),
    ],
    behavior: null,
    verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: '' },
  };
}

const judge = (yaml: string, now = new Date('2026-11-30T12:00:00Z')) => judgeReport(report(), { ignore: parseIgnoreFile('/w/.detonateignore.yaml', yaml), now });

describe('ignore entries', () => {
  it('a vulnerability by an alias, only in the package named; counts and summary follow', () => {
    const r = judge('ignore:\n  - {vulnerability: dsa-5555-1, package: libssl3, reason: not reachable}\n  - {vulnerability: CVE-2024-3, package: libssl3, reason: wrong package}\n');
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2024-2', 'CVE-2024-3']);
    expect(r.suppressed).toEqual([{ vulnerability: expect.objectContaining({ id: 'CVE-2024-1' }), reason: 'not reachable', ignoredBy: '/w/.detonateignore.yaml:2' }]);
    expect(r.verdict.vulnerabilities).toEqual({ critical: 0, high: 1, moderate: 0, low: 1, unknown: 0 });
    expect(r.verdict.summary).toMatch(/; 2 known vulnerabilities \(1 high\)\.$/);
  });

  it('a package by purl: without a version every version, with one only that version', () => {
    expect(judge('ignore:\n  - {package: "pkg:deb/debian/libssl3", reason: r}\n').vulnerabilities.map((v) => v.id)).toEqual(['CVE-2024-3']);
    expect(judge('ignore:\n  - {package: "pkg:deb/debian/libssl3@2.0", reason: r}\n').vulnerabilities).toHaveLength(3);
    const r = judge('ignore:\n  - {package: "pkg:npm/evil", reason: vendored test double}\n');
    expect(r.findings.map((f) => f.category)).toEqual(['cryptominer', 'cryptominer']);
  });

  it('rule and path together: only the finding both match; the verdict rests on the rest', () => {
    const r = judge('ignore:\n  - {rule: "yara/Cryptominer_*", path: "/opt/tests/**", reason: our test fixtures}\n  - {rule: "advisory:*", reason: r}\n');
    expect(r.findings.map((f) => f.path)).toEqual(['usr/bin/kdevtmpfsi']);
    expect(r.verdict).toMatchObject({ malicious: true, categories: ['cryptominer'] });
    expect(r.verdict.summary).toBe('Malicious (cryptominer): yara/Cryptominer_XMRig (usr/bin/kdevtmpfsi); 3 known vulnerabilities (1 critical, 1 high).');
  });

  it('an expired entry no longer applies, and the notice says so; one expiring today still applies', () => {
    const r = judge('ignore:\n  - {vulnerability: CVE-2024-1, reason: r, expires: 2026-11-29}\n  - {vulnerability: CVE-2024-2, reason: r, expires: 2026-11-30}\n');
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2024-1', 'CVE-2024-3']);
    expect(r.suppressed).toEqual([expect.objectContaining({ expires: '2026-11-30', ignoredBy: '/w/.detonateignore.yaml:3' })]);
    expect(r.notices).toEqual([{ level: 'warning', message: '/w/.detonateignore.yaml:2: the ignore entry for CVE-2024-1 expired on 2026-11-29 and no longer applies (the item it covered is reported again)' }]);
  });

  it('nothing suppressed when nothing matches; an empty file is fine', () => {
    expect(judge('ignore:\n  - {rule: "secrets/*", reason: r}\n').suppressed).toEqual([]);
    expect(judge('').findings).toHaveLength(3);
  });

  it.each([
    ['vulnerability with a path', 'ignore:\n  - {vulnerability: CVE-1, path: a, reason: r}\n', /:2: an entry covers either findings/],
    ['no reason', 'ignore:\n  - {rule: a}\n', /:2: invalid at ignore\.0\.reason/],
    ['a top-level list', '- {rule: a, reason: r}\n', /:1: invalid/],
  ])('refuses %s, naming file:line', (_what, yaml, message) => {
    expect(() => parseIgnoreFile('/w/i.yaml', yaml)).toThrow(message);
  });
});

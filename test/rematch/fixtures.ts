/**
 * Two advisory DBs a day apart, built by `updateAdvisoryDb` from the corpus's Node.js security WG feed plus one OSV
 * file each: DB A has an advisory for left-pad that DB B no longer has (withdrawn), DB B adds one for is-even and a
 * malicious-package record (MAL-) for evil-helper. And the stored report of an image with those npm packages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir } from '../support/paths.js';
import { updateAdvisoryDb } from '../../src/vuln/update.js';
import { silentProgress } from '../../src/progress/progress.js';
import type { Package, Report } from '../../src/model/index.js';

export const WITHDRAWN = 'CVE-2099-1001';
export const ADDED = 'CVE-2099-1002';
export const MALICIOUS = 'MAL-2099-1';
export const CORPUS_NPM = join(corpusDir, 'vuln', 'nodejs-security-wg', 'npm-advisories.json');

const osv = (id: string, aliases: string[], name: string, affected: Record<string, unknown>, severity?: string) => ({
  schema_version: '1.6.0',
  id,
  modified: '2099-01-01T00:00:00Z',
  aliases,
  summary: `${id} in ${name}`,
  affected: [{ package: { ecosystem: 'npm', name }, ...affected }],
  ...(severity ? { database_specific: { severity } } : {}),
});

/** Feed directories for DB A and DB B under `work`, and A's revised: its left-pad advisory now critical, fixed later. */
export function writeFeeds(work: string): { a: string; b: string; revised: string } {
  const a = join(work, 'feeds-a');
  const b = join(work, 'feeds-b');
  const revised = join(work, 'feeds-a-revised');
  for (const dir of [a, b, revised]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(a, 'withdrawn.json'), JSON.stringify(osv('GHSA-rm00-0001-0001', [WITHDRAWN], 'left-pad', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }, 'HIGH')));
  writeFileSync(join(revised, 'withdrawn.json'), JSON.stringify(osv('GHSA-rm00-0001-0001', [WITHDRAWN], 'left-pad', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.4.0' }] }] }, 'CRITICAL')));
  writeFileSync(join(b, 'added.json'), JSON.stringify(osv('GHSA-rm00-0002-0002', [ADDED], 'is-even', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] }, 'MODERATE')));
  writeFileSync(join(b, 'malicious.json'), JSON.stringify(osv(MALICIOUS, [], 'evil-helper', { versions: ['1.0.0'] })));
  return { a, b, revised };
}

/** Builds DB A, DB B, A2 (A's feeds again) and A's revision, each after the last, so that each build date is later; their paths. */
export async function buildDbs(work: string): Promise<{ a: string; b: string; a2: string; revised: string }> {
  const feeds = writeFeeds(work);
  const a = join(work, 'a.sqlite');
  const b = join(work, 'b.sqlite');
  const a2 = join(work, 'a2.sqlite');
  const build = (dbPath: string, dir: string) => updateAdvisoryDb({ from: [CORPUS_NPM, dir], dbPath, downloadDir: join(work, 'downloads'), progress: silentProgress });
  await build(a, feeds.a);
  await new Promise((r) => setTimeout(r, 20));
  await build(b, feeds.b);
  await new Promise((r) => setTimeout(r, 20));
  await build(a2, feeds.a);
  await new Promise((r) => setTimeout(r, 20));
  const revised = join(work, 'revised.sqlite');
  await build(revised, feeds.revised);
  return { a, b, a2, revised };
}

export const npm = (name: string, version: string, layer = 1): Package => ({
  name, version, type: 'npm', purl: `pkg:npm/${name}@${version}`, layer, paths: [`app/node_modules/${name}/package.json`],
});

/** The packages of the sample image: lodash 4.17.4 (several corpus advisories), left-pad, is-even, evil-helper. */
export const APP_PACKAGES: Package[] = [npm('lodash', '4.17.4'), npm('left-pad', '1.1.0'), npm('is-even', '1.0.0'), npm('evil-helper', '1.0.0'), npm('express', '4.18.2')];

/** A stored report's image part: no vulnerabilities and no DB (as a scan with --no-vulns writes it). */
export function unmatchedReport(digest: string, packages: Package[] = APP_PACKAGES, reference = 'registry.example.test/team/app:1.0'): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: null },
    image: {
      reference,
      digest,
      platform: 'linux/amd64',
      os: { id: 'debian', versionId: '12' },
      layers: [{ index: 0, diffId: `sha256:${'c'.repeat(64)}`, size: 100 }, { index: 1, diffId: `sha256:${'d'.repeat(64)}`, size: 100 }],
      config: { user: 'app', entrypoint: ['/app'], cmd: [], env: [], exposedPorts: [], labels: {} },
    },
    packages,
    vulnerabilities: [],
    findings: [
      { category: 'secret', severity: 'high', title: 'AWS access key', source: 'static', rule: 'secret/aws-access-key', path: 'app/.env', layer: 1, removedInLayer: null, evidence: { fingerprint: 'sha256:0123456789abcdef' } },
    ],
    behavior: null,
    verdict: { malicious: false, categories: ['secret'], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: 'x' },
    notices: [{ level: 'warning', message: 'vulnerabilities not checked: --no-vulns' }],
    scannedAt: '2099-01-01T00:00:00.000Z',
  };
}

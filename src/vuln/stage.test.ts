import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, AdvisoryDbWriter } from './db.js';
import { applyVulnerabilities } from './stage.js';
import type { Report } from '../model/index.js';

let work: string;
let db: AdvisoryDb;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-stage-'));
  const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
  writer.add({ id: 'CVE-2021-23337', aliases: [], source: 'ghsa', sourceId: 'GHSA-35jh-r3h4-6jhm', severity: { rating: 'HIGH' }, affected: [{ ecosystem: 'npm', name: 'lodash', status: 'affected', ranges: [{ introduced: '0', fixed: '4.17.21' }] }] });
  writer.addSource('ghsa test', '/feeds/ghsa', 1);
  await writer.finish();
  db = AdvisoryDb.open(join(work, 'db.sqlite'));
});
afterAll(() => {
  db.close();
  rmSync(work, { recursive: true, force: true });
});

const report = (): Report => ({
  schemaVersion: 1,
  tool: { name: 'detonate', version: '0.0.0' },
  image: { reference: 'x', digest: 'sha256:0', platform: 'linux/amd64', layers: [], config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {} } },
  packages: [{ name: 'lodash', version: '4.17.20', type: 'npm', purl: 'pkg:npm/lodash@4.17.20', layer: 0, paths: ['app/node_modules/lodash/package.json'] }],
  vulnerabilities: [],
  findings: [],
  behavior: null,
  verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: '' },
  notices: [],
});

describe('the vulnerability stage', () => {
  it('fills vulnerabilities, verdict counts and the DB identity', () => {
    const r = applyVulnerabilities(report(), db);
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2021-23337']);
    expect(r.verdict.vulnerabilities).toEqual({ critical: 0, high: 1, moderate: 0, low: 0, unknown: 0 });
    expect(r.tool.advisoryDb).toEqual({ builtAt: expect.any(String), sources: ['/feeds/ghsa'] });
    expect(r.notices).toEqual([]);
  });

  it('still matches with a DB older than 7 days, with a warning in the report', () => {
    const later = new Date(Date.now() + 9 * 86_400_000);
    const r = applyVulnerabilities(report(), db, undefined, later);
    expect(r.vulnerabilities).toHaveLength(1);
    expect(r.tool.advisoryDb?.stale).toBe(true);
    expect(r.notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/advisory database is 9 days old.*detonate db update/) })]);
  });

  it('without a DB, says in the report why nothing was checked', () => {
    const r = applyVulnerabilities(report(), null, 'no advisory database at /x; run `detonate db update`');
    expect(r.vulnerabilities).toEqual([]);
    expect(r.tool.advisoryDb).toBeNull();
    expect(r.notices).toEqual([expect.objectContaining({ level: 'warning', message: 'vulnerabilities not checked: no advisory database at /x; run `detonate db update`' })]);
  });
});

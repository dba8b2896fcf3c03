import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, AdvisoryDbWriter } from './db.js';
import { countBySeverity } from './match.js';
import { matchVulnerabilities } from './stage.js';
import type { Package } from '../model/index.js';

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

const inventory = (): { packages: Package[]; os: null } => ({
  packages: [{ name: 'lodash', version: '4.17.20', type: 'npm', purl: 'pkg:npm/lodash@4.17.20', layer: 0, paths: ['app/node_modules/lodash/package.json'] }],
  os: null,
});

describe('the vulnerability stage', () => {
  it('fills vulnerabilities, verdict counts and the DB identity', () => {
    const r = matchVulnerabilities(inventory(), db);
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2021-23337']);
    expect(countBySeverity(r.vulnerabilities)).toEqual({ critical: 0, high: 1, moderate: 0, low: 0, unknown: 0 });
    expect(r.advisoryDb).toEqual({ builtAt: expect.any(String), sources: ['/feeds/ghsa'] });
    expect(r.notices).toEqual([]);
  });

  it('still matches with a DB older than 7 days, with a warning in the report', () => {
    const later = new Date(Date.now() + 9 * 86_400_000);
    const r = matchVulnerabilities(inventory(), db, undefined, later);
    expect(r.vulnerabilities).toHaveLength(1);
    expect(r.advisoryDb?.stale).toBe(true);
    expect(r.notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/advisory database is 9 days old.*detonate db update/) })]);
  });

  it('without a DB, says in the report why nothing was checked', () => {
    const r = matchVulnerabilities(inventory(), null, 'no advisory database at /x; run `detonate db update`');
    expect(r.vulnerabilities).toEqual([]);
    expect(r.advisoryDb).toBeNull();
    expect(r.notices).toEqual([expect.objectContaining({ level: 'warning', message: 'vulnerabilities not checked: no advisory database at /x; run `detonate db update`' })]);
  });
});

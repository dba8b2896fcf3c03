import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../support/paths.js';
import { AdvisoryDb, AdvisoryDbWriter } from '../../src/vuln/db.js';
import { readFeedsFrom } from '../../src/vuln/feeds/index.js';
import { matchPackages } from '../../src/vuln/match.js';
import type { AdvisoryRecord } from '../../src/vuln/model.js';
import type { Package, PackageType } from '../../src/model/index.js';

// trivy-db's test data (real vuln-list snapshots): imported, then every language range with a plain fixed version is
// matched just below the fix (a pre-release of it, per the ecosystem's ordering) and not at the fix.
const TYPES: Record<string, { type: PackageType; below: (v: string) => string }> = {
  npm: { type: 'npm', below: (v) => `${v}-0` },
  pypi: { type: 'pypi', below: (v) => `${v}.dev0` },
  go: { type: 'golang', below: (v) => `${v.startsWith('v') ? v : `v${v}`}-0` },
  rubygems: { type: 'gem', below: (v) => `${v}.a` },
  maven: { type: 'maven', below: (v) => `${v}-alpha-1` },
};

describe('trivy-db test data', () => {
  it('is imported and its language advisories match just below their fixes and not at them', async () => {
    const work = mkdtempSync(join(tmpdir(), 'detonate-trivy-db-'));
    try {
      const records: AdvisoryRecord[] = [];
      for await (const r of readFeedsFrom(join(corpusDir, 'vuln', 'trivy-db-testdata'), () => {})) records.push(r);
      expect(records.filter((r) => r.source === 'ghsa').length).toBeGreaterThanOrEqual(10);
      const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
      for (const r of records) writer.add(r);
      await writer.finish();
      const db = AdvisoryDb.open(join(work, 'db.sqlite'));
      let checked = 0;
      const misses: string[] = [];
      for (const r of records) {
        for (const a of r.affected) {
          const t = TYPES[a.ecosystem];
          if (!t || a.status !== 'affected' || a.ranges.length !== 1) continue;
          const { introduced, fixed, lastAffected } = a.ranges[0]!;
          // `<= last` ranges (npm advisories) end below any pre-release of the fix: only plain [0, fixed) here
          if (!fixed || lastAffected || (introduced && introduced !== '0') || !/^v?\d+(\.\d+)*$/.test(fixed)) continue;
          const pkg = (version: string): Package => ({ name: a.name, version, type: t.type, purl: `pkg:${t.type}/${a.name}@${version}`, layer: 0, paths: [] });
          const ids = (version: string) => matchPackages(db, [pkg(version)], null).vulnerabilities.flatMap((v) => [v.id, ...v.aliases]);
          checked++;
          if (!ids(t.below(fixed)).includes(r.id)) misses.push(`${r.id} ${a.ecosystem}/${a.name} ${t.below(fixed)} not matched`);
          if (ids(fixed).includes(r.id)) misses.push(`${r.id} ${a.ecosystem}/${a.name} ${fixed} matched although fixed`);
        }
      }
      db.close();
      expect(checked).toBeGreaterThan(5);
      expect(misses).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

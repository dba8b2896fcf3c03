import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { assertValidReport } from '../support/report-schema.js';
import { openStore, type Store } from '../../src/store/index.js';
import { listLatestChanges } from '../../src/store/rematch.js';
import { rematchReport, rematchStore, type ChangedImage } from '../../src/rematch/rematch.js';
import { AdvisoryDb } from '../../src/vuln/db.js';
import { loadVerdictRules, type VerdictRules } from '../../src/verdict/index.js';
import type { Report } from '../../src/model/index.js';
import { sampleRun } from '../store/sample-report.js';
import { ADDED, MALICIOUS, WITHDRAWN, buildDbs, npm, unmatchedReport } from './fixtures.js';

let server: TestPostgres;
let work: string;
let dbA: AdvisoryDb;
let dbB: AdvisoryDb;
let rules: VerdictRules;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-rematch-'));
  const [pgServer, dbs] = await Promise.all([startTestPostgres(), buildDbs(work)]);
  server = pgServer;
  dbA = AdvisoryDb.open(dbs.a);
  dbB = AdvisoryDb.open(dbs.b);
  rules = await loadVerdictRules();
}, 120_000);
afterAll(async () => {
  dbA?.close();
  dbB?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const count = async (store: Store, sql: string, params: unknown[] = []) => Number((await store.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

/** Records `report` as a scan matched against DB A. */
async function storeScannedWithA(store: Store, report: Report): Promise<{ scanId: number; report: Report }> {
  const scanned = rematchReport(report, { db: dbA, rules, ignore: null });
  const { scanId } = await store.recordScan(scanned, { rulesDigest: 'rules-1' });
  return { scanId, report: scanned };
}

describe('detonate rematch against the store', () => {
  it('records exactly the added and withdrawn advisories, the new report, and the verdict decided again', async () => {
    await withStore(async (store) => {
      const { scanId, report: before } = await storeScannedWithA(store, unmatchedReport(digest(1)));
      expect(before.vulnerabilities.map((v) => v.id)).toContain(WITHDRAWN);
      expect(before.verdict.malicious).toBe(false);
      const changes: ChangedImage[] = [];
      const summary = await rematchStore(store, { db: dbB, rules, ignore: null, onChange: (c) => changes.push(c) });
      expect(summary).toMatchObject({ images: 1, rematched: 1, changed: 1, unchanged: 0, skipped: 0, vulnerabilitiesAdded: 1, vulnerabilitiesRemoved: 1, maliciousPackagesAdded: 1, verdictsChanged: 1, becameMalicious: 1 });
      expect(changes).toHaveLength(1);
      const items = changes[0]!.change.items.map((i) => `${i.change} ${i.kind} ${i.id} ${i.package}`).sort();
      expect(items).toEqual([`added malicious-package ${MALICIOUS} evil-helper`, `added vulnerability ${ADDED} is-even`, `removed vulnerability ${WITHDRAWN} left-pad`]);

      const after = (await store.getLatestReport(digest(1), 'linux/amd64'))!;
      assertValidReport(after);
      expect(after.tool.advisoryDb?.builtAt).toBe(dbB.status().builtAt);
      const ids = after.vulnerabilities.map((v) => v.id);
      expect(ids).toContain(ADDED);
      expect(ids).not.toContain(WITHDRAWN);
      // the corpus advisories for lodash stay as they were
      expect(ids.filter((id) => before.vulnerabilities.some((v) => v.id === id)).sort()).toEqual(before.vulnerabilities.map((v) => v.id).filter((id) => id !== WITHDRAWN).sort());
      expect(after.verdict.malicious).toBe(true);
      expect(after.verdict.categories).toEqual(['malicious-package', 'secret']);
      expect(after.findings.filter((f) => f.category === 'secret')).toEqual(before.findings.filter((f) => f.category === 'secret'));
      expect(after.packages).toEqual(before.packages);
      expect(after.image).toEqual(before.image);
      expect(after.tool.version).toBe(before.tool.version);

      const row = (await store.pool.query('SELECT id, rematch_of, tool_version, rules_digest, malicious FROM scans WHERE id = $1', [changes[0]!.scanId])).rows[0];
      expect(row).toMatchObject({ rematch_of: String(scanId), tool_version: '0.1.0', rules_digest: 'rules-1', malicious: true });
      // the inventory is the analysed scan's, not a copy: search by package finds the rematch through scan_inventory
      expect(await count(store, 'SELECT count(*) AS n FROM scan_packages WHERE scan_id = $1', [changes[0]!.scanId])).toBe(0);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_inventory WHERE scan_id = $1', [changes[0]!.scanId])).toBe(5);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_inventory WHERE scan_id = $1', [scanId])).toBe(5);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_vulnerabilities WHERE scan_id = $1 AND id = $2', [changes[0]!.scanId, ADDED])).toBe(1);
      expect(await count(store, "SELECT count(*) AS n FROM scan_findings WHERE scan_id = $1 AND category = 'malicious-package'", [changes[0]!.scanId])).toBe(1);

      const listing = await listLatestChanges(store.pool, 10);
      expect(listing).toMatchObject({ advisoryDbBuiltAt: dbB.status().builtAt, total: 1 });
      expect(listing.changes[0]).toMatchObject({ scanId: changes[0]!.scanId, previousScanId: scanId, before: { malicious: false }, after: { malicious: true } });
      expect(listing.changes[0]!.added.map((i) => i.id).sort()).toEqual([ADDED, MALICIOUS].sort());
      expect(listing.changes[0]!.removed.map((i) => i.id)).toEqual([WITHDRAWN]);
    });
  });

  it('rematching again with the same DB records nothing twice', async () => {
    await withStore(async (store) => {
      await storeScannedWithA(store, unmatchedReport(digest(1)));
      await rematchStore(store, { db: dbB, rules, ignore: null });
      const scans = await count(store, 'SELECT count(*) AS n FROM scans');
      const again = await rematchStore(store, { db: dbB, rules, ignore: null });
      expect(again).toMatchObject({ images: 1, rematched: 0, skipped: 1, changed: 0 });
      expect(await count(store, 'SELECT count(*) AS n FROM scans')).toBe(scans);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_changes')).toBe(1);
    });
  });

  it('two rematches at once record each image once', async () => {
    await withStore(async (store) => {
      for (let i = 1; i <= 30; i++) await storeScannedWithA(store, unmatchedReport(digest(i), undefined, `registry.example.test/app${i}:1`));
      const second = await openStore({ kind: 'server', url: (store.pool.options as { connectionString: string }).connectionString });
      try {
        const [x, y] = await Promise.all([
          rematchStore(store, { db: dbB, rules, ignore: null, batchSize: 7 }),
          rematchStore(second, { db: dbB, rules, ignore: null, batchSize: 5 }),
        ]);
        expect(x.rematched + y.rematched).toBe(30);
        expect(x.rematched + x.recordedByOther + x.skipped).toBe(x.images);
      } finally {
        await second.close();
      }
      expect(await count(store, 'SELECT count(*) AS n FROM scans WHERE rematch_of IS NOT NULL')).toBe(30);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_changes')).toBe(30);
      expect(await count(store, 'SELECT count(*) AS n FROM (SELECT image_digest FROM scans GROUP BY image_digest HAVING count(*) <> 2) x')).toBe(0);
    });
  });

  it('never turns a failed or skipped scan into a done one; an image scanned without a DB is matched now; an unchanged one gets its scan without a change', async () => {
    await withStore(async (store) => {
      await store.recordFailedScan({ reference: 'registry.example.test/broken:1', digest: digest(7), platform: 'linux/amd64' }, 'pull', 'manifest unknown', { rulesDigest: 'rules-1' });
      await store.recordSkippedScan({ reference: 'registry.example.test/huge:1', digest: digest(8), platform: 'linux/amd64' }, 'larger than --max-image-size', { rulesDigest: 'rules-1' });
      // no DB when it was scanned
      const unmatched = unmatchedReport(digest(9), [npm('lodash', '4.17.4')], 'registry.example.test/nodb:1');
      await store.recordScan(unmatched, { rulesDigest: 'rules-1' });
      // nothing any advisory names: the same result against either DB
      await storeScannedWithA(store, unmatchedReport(digest(10), [npm('a-package-nobody-advises', '1.0.0')], 'registry.example.test/quiet:1'));
      const changes: ChangedImage[] = [];
      const summary = await rematchStore(store, { db: dbB, rules, ignore: null, onChange: (c) => changes.push(c) });
      expect(summary).toMatchObject({ images: 2, rematched: 2, changed: 1, unchanged: 1, skipped: 0 });
      expect(changes.map((c) => c.digest)).toEqual([digest(9)]);
      expect(changes[0]!.change.items.every((i) => i.change === 'added' && i.package === 'lodash')).toBe(true);
      expect(await count(store, "SELECT count(*) AS n FROM scans WHERE image_digest IN ($1, $2) AND status = 'done'", [digest(7), digest(8)])).toBe(0);
      const quiet = (await store.getLatestReport(digest(10), 'linux/amd64'))!;
      expect(quiet.tool.advisoryDb?.builtAt).toBe(dbB.status().builtAt);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_changes')).toBe(1);
      const noDb = (await store.getLatestReport(digest(9), 'linux/amd64'))!;
      expect(noDb.notices?.some((n) => n.message.startsWith('vulnerabilities not checked'))).toBe(false);
      expect(noDb.verdict.summary).toMatch(/known vulnerabilit/);
    });
  });

  it('judges the stored run record again: behaviour findings and correlations are made again, not doubled', async () => {
    await withStore(async (store) => {
      const run = sampleRun();
      run.connections[0]!.details = { ...run.connections[0]!.details, methods: ['login'] }; // as the sinkhole records a stratum login
      const report = { ...unmatchedReport(digest(11)), behavior: run };
      const { report: before } = await storeScannedWithA(store, report);
      expect(before.verdict.categories).toContain('cryptominer');
      await rematchStore(store, { db: dbB, rules, ignore: null });
      const after = (await store.getLatestReport(digest(11), 'linux/amd64'))!;
      assertValidReport(after);
      expect(after.behavior).toEqual(before.behavior);
      const dynamic = (r: Report) => r.findings.filter((f) => f.source === 'dynamic').map((f) => f.rule).sort();
      expect(dynamic(after)).toEqual(dynamic(before));
      expect(after.verdict.categories).toEqual([...new Set([...before.verdict.categories, 'malicious-package'])].sort());
    });
  });

  it('--since takes only images whose latest scan finished on or after the date', async () => {
    await withStore(async (store) => {
      await storeScannedWithA(store, unmatchedReport(digest(1)));
      expect(await rematchStore(store, { db: dbB, rules, ignore: null, since: new Date(Date.now() + 86_400_000) })).toMatchObject({ images: 0, rematched: 0 });
      expect(await rematchStore(store, { db: dbB, rules, ignore: null, since: new Date(Date.now() - 86_400_000) })).toMatchObject({ images: 1, rematched: 1 });
    });
  });

  it('a dry run matches and counts but records nothing', async () => {
    await withStore(async (store) => {
      await storeScannedWithA(store, unmatchedReport(digest(1)));
      const summary = await rematchStore(store, { db: dbB, rules, ignore: null, dryRun: true });
      expect(summary).toMatchObject({ dryRun: true, rematched: 1, changed: 1 });
      expect(await count(store, 'SELECT count(*) AS n FROM scans')).toBe(1);
    });
  });
});

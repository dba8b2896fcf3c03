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
import { dbMatchFingerprint } from '../../src/vuln/fingerprint.js';
import { judgingDigest } from '../../src/store/keys.js';
import { loadVerdictRules, type VerdictRules } from '../../src/verdict/index.js';
import type { Report } from '../../src/model/index.js';
import { sampleRun } from '../store/sample-report.js';
import { ADDED, MALICIOUS, WITHDRAWN, buildDbs, npm, unmatchedReport } from './fixtures.js';

let server: TestPostgres;
let work: string;
let dbA: AdvisoryDb;
let dbB: AdvisoryDb;
/** DB A built again, a day later in effect: the same advisories, another build. */
let dbA2: AdvisoryDb;
/** DB A with its left-pad advisory revised: critical now, fixed in a later version. */
let dbRevised: AdvisoryDb;
let rules: VerdictRules;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-rematch-'));
  const [pgServer, dbs] = await Promise.all([startTestPostgres(), buildDbs(work)]);
  server = pgServer;
  dbA = AdvisoryDb.open(dbs.a);
  dbB = AdvisoryDb.open(dbs.b);
  dbA2 = AdvisoryDb.open(dbs.a2);
  dbRevised = AdvisoryDb.open(dbs.revised);
  rules = await loadVerdictRules();
}, 120_000);
afterAll(async () => {
  dbA?.close();
  dbB?.close();
  dbA2?.close();
  dbRevised?.close();
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

/** Records `report` as a scan matched against DB A (`judged`: with its match fingerprint, as scans record it). */
async function storeScannedWithA(store: Store, report: Report, judged = false): Promise<{ scanId: number; report: Report }> {
  const scanned = rematchReport(report, { db: dbA, rules, ignore: null });
  const { scanId } = await store.recordScan(scanned, { rulesDigest: 'rules-1', ...(judged ? { judgingDigest: judgingDigest({ verdictRules: rules, ignore: null }) } : {}) });
  return { scanId, report: scanned };
}

/** Two rematches against `db` at once, from two connections and in batches of other sizes: `images` re-matched between them. */
async function twoRematchesAtOnce(store: Store, db: AdvisoryDb, images: number): Promise<void> {
  const second = await openStore({ kind: 'server', url: (store.pool.options as { connectionString: string }).connectionString });
  try {
    const [x, y] = await Promise.all([rematchStore(store, { db, rules, ignore: null, batchSize: 7 }), rematchStore(second, { db, rules, ignore: null, batchSize: 5 })]);
    expect(x.rematched + y.rematched).toBe(images);
    expect(x.rematched + x.recordedByOther + x.skipped).toBe(x.images);
  } finally {
    await second.close();
  }
}

const storedFingerprint = async (store: Store, scanId: number) =>
  (await store.pool.query<{ match_keys: string[] | null; match_fingerprint: string | null }>('SELECT match_keys, match_fingerprint FROM scans WHERE id = $1', [scanId])).rows[0]!;

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

      // the site and the figures see the new result as the image's current one
      const current = await store.pool.query<{ scan_id: string; malicious: boolean }>('SELECT scan_id, malicious FROM image_results WHERE image_digest = $1', [digest(1)]);
      expect(current.rows).toEqual([{ scan_id: String(changes[0]!.scanId), malicious: true }]);
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

  it('records a vulnerability whose severity or fix was revised, with what it was', async () => {
    await withStore(async (store) => {
      await storeScannedWithA(store, unmatchedReport(digest(1)), true);
      const changes: ChangedImage[] = [];
      const summary = await rematchStore(store, { db: dbRevised, rules, ignore: null, onChange: (c) => changes.push(c) });
      expect(summary).toMatchObject({ rematched: 1, changed: 1, unchangedByFingerprint: 0, vulnerabilitiesAdded: 0, vulnerabilitiesRemoved: 0, vulnerabilitiesRevised: 1 });
      expect(changes[0]!.change.items).toEqual([
        { change: 'changed', kind: 'vulnerability', id: WITHDRAWN, package: 'left-pad', installedVersion: '1.1.0', severity: 'critical', fixedVersion: '1.4.0', previous: { severity: 'high', fixedVersion: '1.3.0' } },
      ]);
      const listing = await listLatestChanges(store.pool, 10);
      expect(listing.changes[0]).toMatchObject({ added: [], removed: [], changed: [{ id: WITHDRAWN, severity: 'critical', fixedVersion: '1.4.0', previous: { severity: 'high', fixedVersion: '1.3.0' } }] });
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
      await twoRematchesAtOnce(store, dbB, 30);
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

  describe('by match fingerprint', () => {
    it('checks an image whose packages match as before without reading its report: its scan stands for the new DB', async () => {
      await withStore(async (store) => {
        const { scanId } = await storeScannedWithA(store, unmatchedReport(digest(1)), true);
        const stored = await storedFingerprint(store, scanId);
        expect(stored.match_keys).toEqual(['["npm","evil-helper","1.0.0"]', '["npm","express","4.18.2"]', '["npm","is-even","1.0.0"]', '["npm","left-pad","1.1.0"]', '["npm","lodash","4.17.4"]']);
        expect(stored.match_fingerprint).toBe(dbMatchFingerprint(dbA, stored.match_keys!, judgingDigest({ verdictRules: rules, ignore: null })));
        // nothing to read it by: a report that cannot be taken apart has to be matched in full
        await store.pool.query("UPDATE scans SET report = '{}'::json WHERE id = $1", [scanId]);

        const summary = await rematchStore(store, { db: dbA2, rules, ignore: null });
        expect(summary).toMatchObject({ images: 1, rematched: 1, changed: 0, unchanged: 1, unchangedByFingerprint: 1, skipped: 0 });
        expect(await count(store, 'SELECT count(*) AS n FROM scans')).toBe(1);
        expect(await count(store, 'SELECT count(*) AS n FROM scan_checks WHERE scan_id = $1 AND advisory_db_built_at = $2', [scanId, dbA2.status().builtAt])).toBe(1);
        // a worker asked to scan it with the new DB links to the checked scan; a rematch skips it
        const key = { digest: digest(1), platform: 'linux/amd64', toolVersion: '0.1.0', rulesDigest: 'rules-1' };
        expect(await store.findDoneScan({ ...key, advisoryDbBuiltAt: dbA2.status().builtAt })).toBe(scanId);
        expect(await store.findDoneScan({ ...key, advisoryDbBuiltAt: dbB.status().builtAt })).toBeNull();
        expect(await rematchStore(store, { db: dbA2, rules, ignore: null })).toMatchObject({ images: 1, rematched: 0, skipped: 1 });
      });
    });

    it('matches in full only the images whose packages match otherwise, and their new scans carry the new fingerprint', async () => {
      await withStore(async (store) => {
        const { scanId: changing } = await storeScannedWithA(store, unmatchedReport(digest(1)), true);
        // lodash and express: the same advisories in DB A and DB B
        const { scanId: steady } = await storeScannedWithA(store, unmatchedReport(digest(2), [npm('lodash', '4.17.4'), npm('express', '4.18.2')], 'registry.example.test/steady:1'), true);
        const changes: ChangedImage[] = [];
        const summary = await rematchStore(store, { db: dbB, rules, ignore: null, onChange: (c) => changes.push(c) });
        expect(summary).toMatchObject({ images: 2, rematched: 2, changed: 1, unchanged: 1, unchangedByFingerprint: 1, becameMalicious: 1 });
        expect(changes.map((c) => c.previousScanId)).toEqual([changing]);
        expect(await count(store, 'SELECT count(*) AS n FROM scan_checks WHERE scan_id = $1', [steady])).toBe(1);
        const { match_keys: keys, match_fingerprint: fingerprint } = await storedFingerprint(store, changes[0]!.scanId!);
        // what the stored report says is what the DB says: the next rematch against this DB's content would check it
        expect(fingerprint).toBe(dbMatchFingerprint(dbB, keys!, judgingDigest({ verdictRules: rules, ignore: null })));
        expect(fingerprint).not.toBe((await storedFingerprint(store, changing)).match_fingerprint);
      });
    });

    it('two rematches at once check each image once', async () => {
      await withStore(async (store) => {
        for (let i = 1; i <= 20; i++) await storeScannedWithA(store, unmatchedReport(digest(i), undefined, `registry.example.test/app${i}:1`), true);
        await twoRematchesAtOnce(store, dbA2, 20);
        expect(await count(store, 'SELECT count(*) AS n FROM scan_checks')).toBe(20);
        expect(await count(store, 'SELECT count(*) AS n FROM scans')).toBe(20);
      });
    });

    it('judges every image again when the rules or ignore entries differ from those its fingerprint was made with', async () => {
      await withStore(async (store) => {
        await storeScannedWithA(store, unmatchedReport(digest(1), [npm('lodash', '4.17.4')]), true);
        const ignore = { file: 'test.yaml', entries: [{ vulnerability: 'CVE-2099-0000', reason: 'not reachable', where: 'test.yaml:1' }] };
        const summary = await rematchStore(store, { db: dbA2, rules, ignore });
        expect(summary).toMatchObject({ rematched: 1, unchanged: 1, unchangedByFingerprint: 0 });
        expect(await count(store, 'SELECT count(*) AS n FROM scans WHERE rematch_of IS NOT NULL')).toBe(1);
      });
    });
  });
});

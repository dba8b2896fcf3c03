import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { openStore, type Store } from '../../src/store/index.js';
import { loadMigrations, migrate } from '../../src/store/migrate.js';
import { renderJson } from '../../src/report/json.js';
import { LAYER_RESULT_FORMAT, type LayerResult } from '../../src/analyze/runner.js';
import { DIGEST, sampleReport, sampleRun } from './sample-report.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function withStore<T>(fn: (store: Store, url: string) => Promise<T>): Promise<T> {
  const url = await server.freshDatabase();
  const store = await openStore({ kind: 'server', url });
  try {
    return await fn(store, url);
  } finally {
    await store.close();
  }
}

const count = async (store: Store, sql: string, params: unknown[] = []) => Number((await store.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

describe('migrations', () => {
  it('apply once, and a second run applies nothing', async () => {
    const url = await server.freshDatabase();
    const pool = new pg.Pool({ connectionString: url });
    try {
      expect(await migrate(pool)).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7, 8], version: 8 });
      expect(await migrate(pool)).toEqual({ applied: [], version: 8 });
      const { rows } = await pool.query('SELECT version, name FROM schema_migrations');
      expect(rows).toEqual([{ version: 1, name: 'initial' }, { version: 2, name: 'workers' }, { version: 3, name: 'crawls' }, { version: 4, name: 'rematch' }, { version: 5, name: 'shared-inventory' }, { version: 6, name: 'match-fingerprints' }, { version: 7, name: 'search' }, { version: 8, name: 'rematch-revisions' }]);
    } finally {
      await pool.end();
    }
  });

  it('applied from two connections at once: each migration exactly once', async () => {
    const url = await server.freshDatabase();
    const pools = [new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url })];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const shipped = loadMigrations().map((m) => m.version);
      expect(results.map((r) => r.applied).flat()).toEqual(shipped);
      expect(results.every((r) => r.version === shipped.length)).toBe(true);
      expect((await pools[0]!.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0]).toEqual({ n: shipped.length });
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("schema 7 works out, for scans stored before it, each image's current result and each scan's layers", async () => {
    const url = await server.freshDatabase();
    const pool = new pg.Pool({ connectionString: url });
    try {
      await migrate(pool, loadMigrations().slice(0, 6));
      const miner = sampleReport({ malicious: true });
      const insert = (report: object, finished: string) =>
        pool.query(
          `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, status, malicious, categories, vulnerability_counts, report, finished_at)
           VALUES ('registry.example.test/team/app:1.0', $1, 'linux/amd64', '0.1.0', $2, 'done', true, '{cryptominer}', '{}', $3, $4) RETURNING id`,
          [DIGEST, finished, JSON.stringify(report), finished],
        );
      await insert(miner, '2026-11-01T00:00:00Z');
      const newest = Number((await insert(miner, '2026-12-01T00:00:00Z')).rows[0].id);
      // a report an old Detonate wrote in some other shape must not stop the migration
      await pool.query(
        `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, status, malicious, categories, report, finished_at)
         VALUES ('x', $1, 'linux/amd64', '0.0.1', 'r', 'done', false, '{}', '{"image": {"layers": "none"}, "findings": 3}', now() - interval '1 year')`,
        [`sha256:${'9'.repeat(64)}`],
      );
      expect(await migrate(pool)).toMatchObject({ applied: [7, 8] });
      const current = await pool.query('SELECT image_digest, scan_id, malicious FROM image_results ORDER BY image_digest');
      expect(current.rows.map((r) => [r.image_digest, Number(r.scan_id), r.malicious])).toEqual([[`sha256:${'9'.repeat(64)}`, newest + 1, false], [DIGEST, newest, true]]);
      const layers = await pool.query('SELECT scan_id, layer, diff_id, malicious FROM scan_layers WHERE scan_id = $1', [newest]);
      expect(layers.rows).toEqual([{ scan_id: String(newest), layer: 0, diff_id: `sha256:${'c'.repeat(64)}`, malicious: true }]);
    } finally {
      await pool.end();
    }
  });

  it('a store newer than this Detonate is refused with what to do', async () => {
    const url = await server.freshDatabase();
    const pool = new pg.Pool({ connectionString: url });
    try {
      await migrate(pool);
      await pool.query("INSERT INTO schema_migrations (version, name, tool_version) VALUES (99, 'future', '9.9.9')");
      await expect(openStore({ kind: 'server', url })).rejects.toThrow(/schema is version 99 \(written by detonate 9\.9\.9\), newer than this detonate .* knows \(8\): upgrade Detonate/);
    } finally {
      await pool.end();
    }
  });

  it('the shipped migrations are numbered without gaps, and a gap is refused', () => {
    expect(loadMigrations().map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const dir = mkdtempSync(join(tmpdir(), 'detonate-migrations-'));
    try {
      writeFileSync(join(dir, '001-a.sql'), 'SELECT 1;');
      writeFileSync(join(dir, '003-c.sql'), 'SELECT 1;');
      expect(() => loadMigrations(dir)).toThrow(/migration 2 is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('recording scans', () => {
  const meta = { rulesDigest: 'r1' };

  it('recording the same scan twice keeps one scan row and one set of its rows', async () => {
    await withStore(async (store) => {
      const report = sampleReport({ malicious: true, run: sampleRun() });
      const first = await store.recordScan(report, meta);
      const second = await store.recordScan(report, meta);
      expect(first.created).toBe(true);
      expect(second).toEqual({ scanId: first.scanId, created: false });
      expect(await count(store, 'SELECT count(*) AS n FROM scans')).toBe(1);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_packages')).toBe(2);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_vulnerabilities')).toBe(1);
      expect(await count(store, 'SELECT count(*) AS n FROM scan_findings')).toBe(1);
      expect(await count(store, 'SELECT count(*) AS n FROM images')).toBe(1);
      const { rows } = await store.pool.query('SELECT registry, repository, tag, platform, digest FROM images');
      expect(rows).toEqual([{ registry: 'registry.example.test', repository: 'team/app', tag: '1.0', platform: 'linux/amd64', digest: DIGEST }]);
    });
  });

  it('keeps the report exactly as the JSON contract writes it, and the normalised rows for search', async () => {
    await withStore(async (store) => {
      const report = sampleReport({ malicious: true, run: sampleRun() });
      const { scanId } = await store.recordScan(report, { ...meta, timings: { totalMs: 1234 } });
      const stored = await store.getLatestReport(DIGEST, 'linux/amd64');
      expect(renderJson([stored!])).toBe(renderJson([report]));
      const scan = (await store.pool.query('SELECT status, sandbox, malicious, categories, timings, advisory_db_built_at FROM scans WHERE id = $1', [scanId])).rows[0];
      expect(scan).toEqual({ status: 'done', sandbox: 'gvisor', malicious: true, categories: ['cryptominer'], timings: { totalMs: 1234 }, advisory_db_built_at: new Date('2026-12-01T00:00:00Z') });
      const vuln = (await store.pool.query('SELECT id, aliases, package, severity FROM scan_vulnerabilities')).rows;
      expect(vuln).toEqual([{ id: 'CVE-2023-5678', aliases: ['DSA-5532-1'], package: 'openssl', severity: 'moderate' }]);
      const indicators = (await store.pool.query('SELECT kind, value FROM scan_indicators ORDER BY kind, value')).rows.map((r: { kind: string; value: string }) => `${r.kind} ${r.value}`);
      expect(indicators).toEqual([
        'domain pool.example',
        'ip 203.0.113.7',
        'pool pool.example:3333',
        `sha256 ${'b'.repeat(64)}`,
        `sha256 ${'d'.repeat(64)}`,
        'wallet 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge',
      ]);
      // found by what a search would ask
      const byPackage = await store.pool.query("SELECT s.image_digest FROM scans s JOIN scan_packages p ON p.scan_id = s.id WHERE p.type = 'npm' AND p.name = 'left-pad'");
      expect(byPackage.rows).toEqual([{ image_digest: DIGEST }]);
    });
  });

  it('another advisory DB is another scan; the newest is the latest report', async () => {
    await withStore(async (store) => {
      await store.recordScan(sampleReport({ advisoryDbBuiltAt: '2026-12-01T00:00:00.000Z' }), { ...meta, finishedAt: new Date('2026-12-01T01:00:00Z') });
      const newer = sampleReport({ advisoryDbBuiltAt: '2026-12-05T00:00:00.000Z' });
      await store.recordScan(newer, { ...meta, finishedAt: new Date('2026-12-05T01:00:00Z') });
      await store.recordScan(sampleReport({ advisoryDbBuiltAt: null }), { ...meta, finishedAt: new Date('2026-12-02T01:00:00Z') });
      await store.recordScan(sampleReport({ advisoryDbBuiltAt: null }), { ...meta, finishedAt: new Date('2026-12-02T01:00:00Z') });
      expect(await count(store, "SELECT count(*) AS n FROM scans WHERE status = 'done'")).toBe(3);
      expect((await store.getLatestReport(DIGEST, 'linux/amd64'))?.tool.advisoryDb?.builtAt).toBe('2026-12-05T00:00:00.000Z');
      expect(await store.getLatestReport(DIGEST, 'linux/arm64')).toBeNull();
    });
  });

  it('a failed scan is recorded with its stage and reason, and is never taken for a done or clean one', async () => {
    await withStore(async (store) => {
      const failedDigest = `sha256:${'f'.repeat(64)}`;
      const id = await store.recordFailedScan({ reference: 'registry.example.test/evil:1', digest: failedDigest, platform: 'linux/amd64' }, 'detonate', 'the sandbox could not start', meta);
      await store.recordFailedScan({ reference: 'registry.example.test/gone:1' }, 'resolve', 'manifest unknown', meta);
      await store.recordSkippedScan({ reference: 'registry.example.test/huge:1' }, 'larger than --max-image-size', meta);
      await store.recordScan(sampleReport(), meta);
      const failed = (await store.pool.query('SELECT status, failed_stage, reason, report, malicious FROM scans WHERE id = $1', [id])).rows[0];
      expect(failed).toEqual({ status: 'failed', failed_stage: 'detonate', reason: 'the sandbox could not start', report: null, malicious: null });
      expect(await store.getLatestReport(failedDigest, 'linux/amd64')).toBeNull();
      // "clean" means done and judged not malicious: a failure is neither
      const clean = await store.pool.query("SELECT image_digest FROM scans WHERE status = 'done' AND NOT malicious");
      expect(clean.rows).toEqual([{ image_digest: DIGEST }]);
      expect((await store.summary()).scans).toEqual({ done: 1, failed: 2, skipped: 1 });
      // the schema itself refuses a done scan without a verdict, and a failure without a reason
      await expect(store.pool.query("INSERT INTO scans (reference, tool_version, rules_digest, status) VALUES ('x', '1', 'r', 'done')")).rejects.toThrow(/check constraint/);
      await expect(store.pool.query("INSERT INTO scans (reference, tool_version, rules_digest, status) VALUES ('x', '1', 'r', 'failed')")).rejects.toThrow(/check constraint/);
    });
  });

  it('records what a hostile image puts in its report: NULs, lone surrogates, huge names', async () => {
    await withStore(async (store) => {
      const report = sampleReport({ run: { ...sampleRun(), output: { stdout: 'a\u0000b\ud800c', stderr: '', truncated: false } } });
      report.packages.push({ name: `evil\u0000\udc00${'x'.repeat(20_000)}`, version: '1\u0000', type: 'npm', purl: `pkg:npm/${'y'.repeat(20_000)}@1`, layer: 0, paths: [] });
      await store.recordScan(report, meta);
      expect(renderJson([(await store.getLatestReport(DIGEST, 'linux/amd64'))!])).toBe(renderJson([report]));
      const evil = (await store.pool.query<{ name: string; version: string }>("SELECT name, version FROM scan_packages WHERE name LIKE 'evil%'")).rows[0]!;
      expect(evil.name.startsWith('evil\uFFFD\uFFFDxxx')).toBe(true);
      expect(Buffer.byteLength(evil.name)).toBeLessThanOrEqual(512);
      expect(evil.version).toBe('1\uFFFD');
    });
  });
});

describe('layer results', () => {
  const result = (diffId: string, notices: LayerResult['notices'] = []): LayerResult => ({
    format: LAYER_RESULT_FORMAT, diffId, analyzerKey: 'dpkg@1,yara@2#abc', entries: [], whiteouts: [], opaqueDirs: [], analyses: [], notices, tarBytes: 1024,
  });

  it('round-trip by diffID and analyzer key; a partial result is not kept', async () => {
    await withStore(async (store) => {
      const diffId = `sha256:${'e'.repeat(64)}`;
      expect(await store.getLayerResult(diffId, 'dpkg@1,yara@2#abc')).toBeNull();
      expect(await store.putLayerResult(result(diffId))).toBe(true);
      expect(await store.putLayerResult(result(diffId))).toBe(false); // the first one stays
      expect(await store.getLayerResult(diffId, 'dpkg@1,yara@2#abc')).toEqual(result(diffId));
      expect(await store.getLayerResult(diffId, 'dpkg@1,yara@3#abc')).toBeNull();
      const partial = `sha256:${'9'.repeat(64)}`;
      expect(await store.putLayerResult(result(partial, [{ level: 'error', message: 'layer too large' }]))).toBe(false);
      expect(await store.getLayerResult(partial, 'dpkg@1,yara@2#abc')).toBeNull();
      expect((await store.summary()).layerResults).toBe(1);
    });
  });
});

describe('opening a shared server', () => {
  it('a server that does not answer: what went wrong and what to do, without the password', async () => {
    const url = server.url.replace(/:\d+\//, ':1/');
    const err = await openStore({ kind: 'server', url }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/cannot use the store at postgres:\/\/detonate:\*\*\*@127\.0\.0\.1:1\/postgres: .*ECONNREFUSED.*: check the URL, that the server runs/);
    expect((err as Error).message).not.toContain(new URL(server.url).password);
  });
});

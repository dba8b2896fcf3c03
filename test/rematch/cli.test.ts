import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { writeOciArchive } from '../support/image-builder.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { assertValidReport } from '../support/report-schema.js';
import { openStore } from '../../src/store/index.js';
import type { RematchSummary } from '../../src/rematch/rematch.js';
import type { ChangeListing } from '../../src/store/rematch.js';
import { ADDED, CORPUS_NPM, MALICIOUS, WITHDRAWN, writeFeeds } from './fixtures.js';

let server: TestPostgres;
let work: string;
let url: string;
let env: NodeJS.ProcessEnv;
const dbA = () => join(work, 'a.sqlite');
const dbB = () => join(work, 'b.sqlite');
/** DB A and DB B built again: the same advisories, later builds. */
const dbA2 = () => join(work, 'a2.sqlite');
const dbB2 = () => join(work, 'b2.sqlite');

const pkg = (name: string, version: string) => ({ name: `srv/app/node_modules/${name}/package.json`, content: JSON.stringify({ name, version }) });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-rematch-cli-'));
  env = { DETONATE_CACHE_DIR: join(work, 'cache') };
  server = await startTestPostgres();
  url = await server.freshDatabase();
  const feeds = writeFeeds(work);
  const a = await runCli(['db', 'update', '--quiet', '--db', dbA(), '--from', CORPUS_NPM, '--from', feeds.a], env, 120_000);
  expect(a.code, a.stderr).toBe(0);
  const image = join(work, 'app.tar');
  await writeOciArchive(image, { layers: [{ entries: [pkg('lodash', '4.17.4'), pkg('left-pad', '1.1.0'), pkg('is-even', '1.0.0'), pkg('evil-helper', '1.0.0')] }] });
  const scan = await runCli(['scan', '--static-only', '-q', '--format', 'json', '--db', dbA(), '--store', url, `oci-archive:${image}`], env, 180_000);
  expect(scan.code, scan.stderr).toBe(0);
  const b = await runCli(['db', 'update', '--quiet', '--db', dbB(), '--from', CORPUS_NPM, '--from', feeds.b], env, 120_000);
  expect(b.code, b.stderr).toBe(0);
  for (const [path, feed] of [[dbA2(), feeds.a], [dbB2(), feeds.b]] as const) {
    const again = await runCli(['db', 'update', '--quiet', '--db', path, '--from', CORPUS_NPM, '--from', feed], env, 120_000);
    expect(again.code, again.stderr).toBe(0);
  }
}, 400_000);
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('detonate rematch (CLI)', () => {
  it('without an advisory DB says to run detonate db update (exit 2)', async () => {
    const r = await runCli(['rematch', '--store', url, '--db', join(work, 'none.sqlite')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rematch needs the advisory DB: run `detonate db update` first/);
  });

  it("knows a scan is unchanged against a rebuild of its DB from its packages' matches alone (dry run)", async () => {
    const r = await runCli(['rematch', '--store', url, '--db', dbA2(), '--dry-run'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/re-matched {2}1: 0 changed, 1 unchanged \(1 known from their packages' matches alone\)/);
  });

  it('re-matches the stored scan, prints a line per changed image and a summary, and records the new report', async () => {
    const r = await runCli(['rematch', '--store', url, '--db', dbB()], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/app\.tar \(linux\/amd64\): \+1 -1 vulnerabilities, \+1 malicious packages; verdict not malicious \(misconfiguration\) → malicious \(malicious-package, misconfiguration\)/);
    expect(r.stdout).toMatch(/re-matched {2}1: 1 changed, 0 unchanged/);
    expect(r.stdout).toMatch(/verdicts {4}1 changed, 1 now malicious/);

    const store = await openStore({ kind: 'server', url });
    try {
      const { rows } = await store.pool.query<{ image_digest: string; platform: string }>("SELECT image_digest, platform FROM scans WHERE rematch_of IS NOT NULL");
      expect(rows).toHaveLength(1);
      const report = (await store.getLatestReport(rows[0]!.image_digest, rows[0]!.platform))!;
      assertValidReport(report);
      expect(report.vulnerabilities.map((v) => v.id)).toContain(ADDED);
      expect(report.vulnerabilities.map((v) => v.id)).not.toContain(WITHDRAWN);
      expect(report.verdict.malicious).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('a second rematch with the same DB skips the image and records nothing', async () => {
    const r = await runCli(['rematch', '--store', url, '--db', dbB(), '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as RematchSummary & { changes: unknown[] };
    expect(summary).toMatchObject({ images: 1, rematched: 0, skipped: 1, changed: 0, changes: [] });
  });

  it("the rematch's own scan is known unchanged against a rebuild of its DB, and only marked as checked", async () => {
    const r = await runCli(['rematch', '--store', url, '--db', dbB2(), '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 1, rematched: 1, changed: 0, unchanged: 1, unchangedByFingerprint: 1, changes: [] });
    const store = await openStore({ kind: 'server', url });
    try {
      const scans = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM scans WHERE status = 'done'");
      expect(scans.rows[0]!.n).toBe(2);
      const checks = await store.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM scan_checks');
      expect(checks.rows[0]!.n).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('--list shows the recorded changes of the latest rematch', async () => {
    const json = await runCli(['rematch', '--list', '--json', '--store', url], env);
    expect(json.code, json.stderr).toBe(0);
    const listing = JSON.parse(json.stdout) as ChangeListing;
    expect(listing.total).toBe(1);
    expect(listing.changes[0]!.added.map((i) => i.id).sort()).toEqual([ADDED, MALICIOUS].sort());
    expect(listing.changes[0]!.removed.map((i) => `${i.id} ${i.package}`)).toEqual([`${WITHDRAWN} left-pad`]);
    const text = await runCli(['rematch', '--list', '--store', url], env);
    expect(text.stdout).toMatch(/^1 image\(s\) changed when matched against the advisory DB built /);
    expect(text.stdout).toContain(`  - ${WITHDRAWN} left-pad 1.1.0 (high)`);
    expect(text.stdout).toContain(`  + ${MALICIOUS} evil-helper 1.0.0 (malicious package)`);
  });
});

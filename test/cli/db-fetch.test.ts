/**
 * The first scan fetches the advisory DB (issue 15): `detonate scan` with no DB in its cache dir builds one from
 * the OSV feeds first (here the OSV bucket's layout served on 127.0.0.1), the next scan uses it without a request,
 * `--skip-db-update` never asks, and offline the scan goes on and its report says why nothing was checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/model/index.js';
import { repoRoot } from '../support/paths.js';
import { runCli } from '../support/cli.js';
import { osvRecord, startOsvBucket, type OsvBucket } from '../support/osv-bucket.js';

const example = `oci-archive:${join(repoRoot, 'examples', 'example-app.oci.tar')}`;

let bucket: OsvBucket;
let base: string;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-db-fetch-'));
  bucket = await startOsvBucket({ npm: [osvRecord('GHSA-test-0001', 'npm', 'lodash', undefined, ['CVE-2099-0001'])] });
  base = bucket.base;
});
afterAll(async () => {
  await bucket?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A scan as a user runs it: no DETONATE_SKIP_DB_UPDATE (the test suite sets it), its own cache dir. */
async function scan(cacheDir: string, osvBase: string, extra: string[] = []): Promise<{ code: number | null; stderr: string; report: Report }> {
  const r = await runCli(['scan', '--static-only', '--format', 'json', ...extra, example], { DETONATE_SKIP_DB_UPDATE: '', DETONATE_CACHE_DIR: cacheDir, DETONATE_OSV_BASE_URL: osvBase }, 120_000);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as Report };
}

describe('the first scan fetches the advisory DB', () => {
  it('fetched once, used by the next scan without asking again', async () => {
    const cache = join(work, 'first');
    const first = await scan(cache, base);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('no advisory DB yet: fetching the advisory feeds');
    expect(first.report.tool.advisoryDb?.sources).toEqual(expect.arrayContaining([`${base}/npm/all.zip`]));
    expect(first.report.vulnerabilities.map((v) => v.id)).toContain('CVE-2099-0001');
    const asked = bucket.requests;
    const second = await scan(cache, base);
    expect(second.code, second.stderr).toBe(0);
    expect(bucket.requests).toBe(asked);
    expect(second.stderr).not.toContain('fetching');
    expect(second.report.vulnerabilities.map((v) => v.id)).toContain('CVE-2099-0001');
  }, 180_000);

  it('--skip-db-update never asks; offline, the scan goes on and its report says why vulnerabilities were not checked', async () => {
    const asked = bucket.requests;
    const skipped = await scan(join(work, 'skipped'), base, ['--skip-db-update']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(bucket.requests).toBe(asked);
    expect(skipped.report.tool.advisoryDb).toBeNull();

    const offline = await scan(join(work, 'offline'), 'http://127.0.0.1:9');
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stderr).toMatch(/warning: the advisory DB could not be updated \(cannot download http:\/\/127\.0\.0\.1:9\//);
    expect(offline.report.tool.advisoryDb).toBeNull();
    expect((offline.report.notices ?? []).map((n) => n.message)).toContainEqual(expect.stringMatching(/^vulnerabilities not checked: no advisory DB, and fetching one failed: /));
    expect(offline.report.packages.length).toBeGreaterThan(0);
  }, 180_000);
});

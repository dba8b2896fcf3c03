/**
 * `detonate export --site DIR`: the site as static files, opened from disk (file://) in Chromium with no server at
 * all: dashboard, search of every kind, listings, an indicator's page and an image's page, all read from the export's
 * data files; hostile names as text. And the command's refusals: no --site, a folder with other files in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { repoRoot } from '../support/paths.js';
import { buildSiteInto, chromiumSkipReason, launchChromium, watchPage } from '../support/chromium.js';
import { runCli } from '../support/cli.js';
import { openStore, type Store } from '../../src/store/index.js';
import { exportSite } from '../../src/web/export.js';
import { silentProgress } from '../../src/progress/progress.js';
import { staticPaths } from '../../src/web/static-site.js';
import { HOSTILE_DOMAIN, fillSampleStore, storeDigest } from '../store/sample-store.js';

const artifacts = join(repoRoot, 'test-artifacts');
let server: TestPostgres;
let store: Store;
let storeUrl: string;
let work: string;
let siteDir: string;
let outDir: string;

describe('detonate export --site', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-export-'));
    siteDir = join(work, 'built');
    await buildSiteInto(siteDir);
    server = await startTestPostgres();
    storeUrl = await server.freshDatabase();
    store = await openStore({ kind: 'server', url: storeUrl });
    await fillSampleStore(store);
    outDir = join(work, 'export');
    mkdirSync(artifacts, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes every page the site reads, as JSON for scripts and as data files for the pages', async () => {
    const summary = await exportSite({ db: store.pool, siteDir, outDir, progress: silentProgress });
    expect(summary).toMatchObject({ images: 3, maliciousImages: 2, failed: 2 });
    const json = (path: string) => JSON.parse(readFileSync(join(outDir, 'api', `${path}.json`), 'utf8')) as Record<string, unknown>;
    expect(json(staticPaths.image(storeDigest(2), 'linux/amd64'))).toMatchObject({ report: { image: { reference: 'docker.io/team/miner:latest' } } });
    expect((json(staticPaths.malicious('windows-malware', 1)).items as Array<{ digest: string }>).map((h) => h.digest)).toEqual([storeDigest(3)]);
    expect((json(staticPaths.indicator('domain', HOSTILE_DOMAIN, 1)).items as Array<{ digest: string }>).map((h) => h.digest)).toEqual([storeDigest(3)]);
    expect(json(staticPaths.dashboard())).toMatchObject({ images: { judged: 3, malicious: 2 } });
    // no name from an image reaches a file name: every file under api/ is made of safe characters
    const names: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        names.push(e.name);
        if (e.isDirectory()) walk(join(dir, e.name));
      }
    };
    walk(join(outDir, 'api'));
    expect(names.filter((n) => !/^[a-z0-9_~-]+(\.json)?$/.test(n))).toEqual([]);
    // the same export again replaces the earlier one
    await exportSite({ db: store.pool, siteDir, outDir, progress: silentProgress });
    expect(existsSync(join(outDir, 'data', 'static.js'))).toBe(true);
  }, 60_000);

  it.skipIf(chromiumSkipReason !== undefined)('opened from disk: dashboard, search, listings, indicator and image pages, hostile names as text', async () => {
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const watch = await watchPage(page);
      const index = pathToFileURL(join(outDir, 'index.html')).href;
      await page.goto(`${index}#/dashboard`);
      await page.waitForSelector('[data-chart="severity"] svg path', { state: 'attached' });
      expect(await page.textContent('[data-figure="judged"]')).toContain('3 images judged (4 tags in 3 repositories), 2 detonated; 2 judged malicious');
      // a domain in the ranking links to its indicator page: the hostile name, as text
      await page.locator('table[data-table="domains"] a', { hasText: HOSTILE_DOMAIN }).click();
      await page.waitForSelector(`[data-indicator="domain"] li[data-digest="${storeDigest(3)}"]`);
      expect(await page.textContent('[data-indicator="domain"] h3 code')).toBe(HOSTILE_DOMAIN);

      const search = async (q: string, kind?: string): Promise<string[]> => {
        await page.goto(`${index}#/?${new URLSearchParams({ q, ...(kind ? { kind } : {}) }).toString()}`);
        // the page shows the last search's results until this one's arrive
        await expect.poll(() => page.getAttribute('[data-results-for]', 'data-results-for', { timeout: 10_000 }).catch(() => null), { timeout: 10_000 }).toBe(q);
        return page.locator('ul[data-list="images"] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-digest') ?? ''));
      };
      expect(await search('team/min')).toEqual([storeDigest(2)]);
      expect(await search(storeDigest(3))).toEqual([storeDigest(3)]);
      expect(await search('cve-2023-5678')).toHaveLength(3);
      expect(await search('left-pad@1.3.0')).toHaveLength(3);
      expect(await search('left-pad@9.9.9')).toEqual([]);
      expect(await search(HOSTILE_DOMAIN, 'indicator')).toEqual([storeDigest(3)]);

      await page.goto(`${index}#/malicious?category=cryptominer`);
      await page.locator(`ul[data-list="images"] li[data-digest="${storeDigest(2)}"] a`).click();
      await page.waitForSelector('ul[data-tree="processes"] li');
      expect(await page.textContent('[data-section="verdict"] .verdict-label')).toBe('MALICIOUS');
      expect(await page.locator('table[data-table="tags"] tbody tr').count()).toBe(2);
      await page.goto(`${index}#/image/${encodeURIComponent(storeDigest(3))}?platform=linux%2Famd64`);
      await page.locator('table[data-table="dns"] td', { hasText: 'onerror' }).waitFor();
      expect(await page.locator('table[data-table="dns"] td code').allTextContents()).toContain(HOSTILE_DOMAIN);
      expect(await page.locator('img').count()).toBe(0);
      // an image the export does not have: a clear message, not a blank page
      await page.goto(`${index}#/image/${encodeURIComponent(storeDigest(9))}?platform=linux%2Famd64`);
      await page.locator('p.error', { hasText: 'not in this export' }).waitFor();
      await page.goto(`${index}#/failed`);
      await page.waitForSelector('table[data-table="failed"] tbody tr');
      expect(await page.locator('table[data-table="failed"] tbody tr').count()).toBe(2);
      await page.screenshot({ path: join(artifacts, 'export-failed.png') });

      expect(watch.pageErrors).toEqual([]);
      // the one missing image's data file is the only error the console may show
      expect(watch.consoleErrors.filter((e) => !/ERR_FILE_NOT_FOUND/.test(e))).toEqual([]);
      expect(await watch.violations()).toEqual([]);
      expect(watch.requests.filter((u) => !u.startsWith(pathToFileURL(outDir).href))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('the command: says what is missing, and never writes into a folder of other files', async () => {
    const none = await runCli(['export', '--store', storeUrl]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--site DIR');
    const busy = join(work, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    const refused = await runCli(['export', '--store', storeUrl, '--site', busy], { DETONATE_SITE_DIR: siteDir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is not empty and holds no earlier export');
    expect(readdirSync(busy)).toEqual(['notes.txt']);
  }, 60_000);
});

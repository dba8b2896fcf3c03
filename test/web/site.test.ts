import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { repoRoot } from '../support/paths.js';
import { barsDrawn, buildSiteInto, chromiumSkipReason, launchChromium, watchPage } from '../support/chromium.js';
import { openStore, type Store } from '../../src/store/index.js';
import { buildServer } from '../../src/web/server.js';
import { HOSTILE_DOMAIN, fillSampleStore, storeDigest } from '../store/sample-store.js';

const artifacts = join(repoRoot, 'test-artifacts');
let server: TestPostgres;
let store: Store;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let siteDir: string;

describe.skipIf(chromiumSkipReason !== undefined)('the results site in Chromium', () => {
  beforeAll(async () => {
    siteDir = mkdtempSync(join(tmpdir(), 'detonate-site-'));
    await buildSiteInto(siteDir);
    server = await startTestPostgres();
    store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    await fillSampleStore(store);
    app = await buildServer({ db: store.pool, siteDir });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    mkdirSync(artifacts, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    await server?.stop();
    if (siteDir) rmSync(siteDir, { recursive: true, force: true });
  });

  it('search → image page → dashboard, everything drawn from the API, hostile names as text, nothing fetched elsewhere', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = await watchPage(page);
    await page.goto(`${base}/`);
    await page.fill('input[name="q"]', 'team/min');
    await page.click('button[type="submit"]');
    const hit = page.locator(`ul[data-list="images"] li[data-digest="${storeDigest(2)}"] a`);
    await hit.waitFor();
    expect(await hit.textContent()).toBe('docker.io/team/miner:latest');
    await hit.click();
    await page.waitForSelector('[data-section="verdict"]');
    expect(await page.textContent('[data-section="verdict"] .verdict-label')).toBe('MALICIOUS');
    expect(await page.locator('table[data-table="tags"] tbody tr').count()).toBe(2);
    expect(await page.locator('table[data-table="dns"] td').allTextContents()).toContain('Pool.Example.');
    expect(await page.locator('[data-section="sharing"] li').count()).toBe(2);
    // everything the HTML report shows, drawn by the report's own renderer: the run's process tree, timeline and charts
    expect(await page.locator('ul[data-tree="processes"] li[data-pid="1"] .exe').textContent()).toBe('/usr/bin/xmrig');
    expect(await page.locator('table[data-table="timeline"] tbody tr').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('[data-section="detonation"] svg circle').count()).toBeGreaterThan(0);
    expect(await page.locator('table[data-table="connections"] td', { hasText: '203.0.113.7:80' }).count()).toBe(1);
    for (const section of ['findings', 'vulnerabilities', 'layers', 'packages']) expect(await page.locator(`[data-section="${section}"]`).count(), section).toBe(1);
    // the report's table of contents scrolls within the page; the route (the URL's hash) stays the image's
    const route = await page.evaluate<string>('location.hash');
    await page.click('nav.toc a[href="#r0-packages"]');
    expect(await page.evaluate<string>('location.hash')).toBe(route);
    expect(await page.locator('[data-section="verdict"]').count()).toBe(1);
    await page.evaluate('window.scrollTo(0, 0)'); // sticky table headers follow the scroll position into a full-page shot
    await page.screenshot({ path: join(artifacts, 'site-image.png'), fullPage: true });

    // the image whose run looked up a hostile name: shown as the text it is
    await page.goto(`${base}/#/image/${encodeURIComponent(storeDigest(3))}?platform=linux%2Famd64`);
    // the last image's page may still be up for a moment: wait for this one's
    await page.locator('h2', { hasText: 'registry.example.test/odd/tools:1' }).waitFor();
    await page.locator('table[data-table="dns"] td', { hasText: 'onerror' }).waitFor();
    expect(await page.locator('table[data-table="dns"] td').allTextContents()).toContain(HOSTILE_DOMAIN);
    expect(await page.locator('img').count()).toBe(0);

    await page.goto(`${base}/#/dashboard`);
    // the bars drawn, found by their colours (src/web/site/dashboard.tsx): not just the axes
    const bars = async (chart: string, colour: string) => {
      await page.waitForSelector(`[data-chart="${chart}"] svg path`, { state: 'attached' });
      return barsDrawn(page, chart, colour);
    };
    expect(await bars('severity', '#d4521b'), 'critical 1, moderate 2').toBe(2);
    expect(await bars('categories', '#b3123a'), 'cryptominer, windows-malware').toBe(2);
    expect(await bars('by-day', '#2f6fb0'), 'judged today').toBe(1);
    expect(await page.locator('[data-figure="not-matched"]').count()).toBe(0);
    expect(await page.textContent('[data-figure="judged"]')).toContain('3 images judged (4 tags in 3 repositories), 2 detonated; 2 judged malicious');
    expect(await page.locator('table[data-table="domains"] td').allTextContents()).toContain(HOSTILE_DOMAIN);
    await page.screenshot({ path: join(artifacts, 'site-dashboard.png'), fullPage: true });

    await page.goto(`${base}/#/malicious?category=windows-malware`);
    await page.waitForSelector(`ul[data-list="images"] li[data-digest="${storeDigest(3)}"]`);
    await page.goto(`${base}/#/failed`);
    await page.waitForSelector('table[data-table="failed"]');
    expect(await page.locator('table[data-table="failed"] tbody tr').count()).toBe(2);

    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors, watch.consoleErrors.join("\n")).toEqual([]);
    expect(await watch.violations()).toEqual([]);
    expect(watch.requests.filter((u) => !u.startsWith(base))).toEqual([]);
  }, 120_000);
});

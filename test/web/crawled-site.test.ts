/**
 * The results site over a store filled by a real crawl (test/web/crawled-store.ts): sample images pushed to a
 * loopback registry, `detonate crawl` and `detonate worker --drain` (detonating in a sandbox) as child processes,
 * then the site built by Vite, served over that store, and driven in Debian's Chromium: search, an image page,
 * the listings and the dashboard. Hostile strings the images carry (names, labels, file names, command lines, DNS
 * names) must show as text and run nothing. Runs in the wall (test/support/netns-wall.ts): registry, PostgreSQL,
 * the sandbox's sinkhole, the server and Chromium all live on the wall's own loopback.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Report, RunRecord } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { SERVE_POOL_SIZE } from '../../src/web/limits.js';
import { buildServer } from '../../src/web/server.js';
import { barsDrawn, buildSiteInto, chromiumSkipReason, launchChromium, watchPage, type PageWatch } from '../support/chromium.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { repoRoot } from '../support/paths.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { query } from '../worker/helpers.js';
import { runCli } from '../support/cli.js';
import { CLEAN_PACKAGE, EDGE_REPOSITORY, EDGE_TAG, HOSTILE, HOSTILE_FILES, HOSTILE_LABELS, HOSTILE_LOOKUPS, PUSHED, fillStoreByCrawl, type CrawledStore } from './crawled-store.js';

const busybox = findBusybox();
// runc first: it starts faster, and this test is about what the store holds afterwards, not the sandbox
const sandbox = (['runc', 'gvisor'] as const).find((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/web/crawled-site.test.ts',
  title: 'the results site over a crawled store',
  expectPassed: 5,
  timeoutMs: 150_000,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : !sandbox ? 'neither runsc nor runc is installed' : chromiumSkipReason),
});

const artifacts = join(repoRoot, 'test-artifacts');

/** A string as the report's renderer shows it: control, bidi and invisible characters as escapes (\\x1b, \\u202e). */
const shown = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/g, (c) => (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

/** Addresses a sample may name: TEST-NET-1, -2 and -3 (RFC 5737). */
const TEST_NET = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/;
/** Names a sample may look up: reserved for tests and documentation (RFC 2606, 6761). */
const RESERVED_NAME = /(\.test|\.invalid|(^|\.)example\.(com|net|org))\.?$/;

wall.describe(() => {
  let work: string;
  let postgres: TestPostgres;
  let crawled: CrawledStore;
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let siteDir: string;
  const digests: Record<'miner' | 'reverseShell' | 'clean', string> = { miner: '', reverseShell: '', clean: '' };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-crawled-site-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    siteDir = join(work, 'site');
    const buildSite = buildSiteInto(siteDir);
    postgres = await startTestPostgres();
    crawled = await fillStoreByCrawl({ postgres, work, busybox: busybox!, sandbox: sandbox!, budgetMs: 90_000 });
    digests.miner = await crawled.digest(PUSHED.miner[0]);
    digests.reverseShell = await crawled.digest(PUSHED.reverseShell[0]);
    digests.clean = await crawled.digest(PUSHED.clean[0]);
    await buildSite;
    // what `detonate serve` does, with the site just built (serve takes its site from dist/site/ only)
    store = await openStore({ kind: 'server', url: crawled.url }, { poolSize: SERVE_POOL_SIZE });
    app = await buildServer({ db: store.pool, siteDir });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    mkdirSync(artifacts, { recursive: true });
  }, 130_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    await crawled?.registry.stop();
    await postgres?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A page watched for console errors, CSP violations, outside requests and dialogs (a hostile string's `alert`). */
  async function openPage(): Promise<{ page: Page; watch: PageWatch; dialogs: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = await watchPage(page);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return { page, watch, dialogs };
  }

  /** Nothing a hostile string carries ran or was parsed as markup, and the page stayed within its own origin. */
  async function expectNothingRan({ page, watch, dialogs }: { page: Page; watch: PageWatch; dialogs: string[] }): Promise<void> {
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('img, [onerror]').count()).toBe(0);
    // the page's own module, and nothing else
    expect(await page.locator('script').evaluateAll((scripts) => scripts.map((s) => (s as unknown as { src: string }).src))).toEqual([expect.stringMatching(new RegExp(`^${base}/assets/[^/]+\\.js$`))]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors, watch.consoleErrors.join('\n')).toEqual([]);
    expect(await watch.violations()).toEqual([]);
    expect(watch.requests.filter((u) => !u.startsWith(`${base}/`))).toEqual([]);
  }

  it('the crawl and the worker filled the store: every image judged or said why not, detonations reached reserved names and TEST-NET only', async () => {
    const scans = await query<{ reference: string; status: string; failed_stage: string | null; reason: string | null; malicious: boolean | null; categories: string[] | null; sandbox: string | null }>(
      crawled.url, 'SELECT reference, status, failed_stage, reason, malicious, categories, sandbox FROM scans ORDER BY reference',
    );
    const byName = new Map(scans.map((s) => [s.reference.slice(crawled.registry.host.length + 1), s]));
    expect([...byName.keys()].sort(), crawled.log).toEqual([PUSHED.miner[1], PUSHED.clean[0], PUSHED.huge[0], PUSHED.lying[0], PUSHED.reverseShell[0]].sort());
    expect(byName.get(PUSHED.miner[1])).toMatchObject({ status: 'done', malicious: true, sandbox });
    expect(byName.get(PUSHED.miner[1])!.categories).toContain('cryptominer');
    expect(byName.get(PUSHED.reverseShell[0])).toMatchObject({ status: 'done', malicious: true, sandbox });
    expect(byName.get(PUSHED.reverseShell[0])!.categories).toContain('backdoor');
    expect(byName.get(PUSHED.clean[0])).toMatchObject({ status: 'done', malicious: false, sandbox });
    expect(byName.get(PUSHED.huge[0])).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/over the job's limit/) });
    expect(byName.get(PUSHED.lying[0])).toMatchObject({ status: 'failed', failed_stage: 'analyze', reason: expect.stringMatching(/diffID digest mismatch/) });
    // the miner's second tag was linked to its one scan
    expect((await query<{ tag: string }>(crawled.url, 'SELECT tag FROM images WHERE digest = $1', [digests.miner])).map((r) => r.tag).sort()).toEqual(['6.21', EDGE_TAG]);

    const reports = await query<{ reference: string; report: Report }>(crawled.url, "SELECT reference, report FROM scans WHERE status = 'done'");
    for (const { reference, report } of reports) {
      const run = report.behavior as RunRecord;
      expect(run.processes.length, reference).toBeGreaterThan(0);
      for (const q of run.dns) expect(q.name, reference).toMatch(RESERVED_NAME);
      for (const c of run.connections) {
        // a name the sample looked up resolves to the sink: a flow there is to that reserved name
        if (c.dst === run.sinkAddress) expect(c.host ?? '', `${reference} → ${c.dst}:${c.port}`).toMatch(RESERVED_NAME);
        else expect(c.dst, reference).toMatch(TEST_NET);
      }
    }
    const miner = reports.find((r) => r.report.image.digest === digests.miner)!.report;
    const run = miner.behavior as RunRecord;
    // the strings as the sandbox recorded them: the command line and the file written verbatim, the names in dig's presentation
    expect(run.processes.map((p) => p.argv)).toContainEqual(['nslookup', HOSTILE_LOOKUPS[0].asked]);
    expect(run.processes.map((p) => p.argv)).toContainEqual(['sh', '-c', `echo '${HOSTILE.rlo}'`]);
    expect(run.files.map((f) => f.path)).toContain(`/tmp/${HOSTILE.img}`);
    expect(run.dns.map((d) => d.name)).toEqual(expect.arrayContaining([...HOSTILE_LOOKUPS.map((l) => l.recorded), 'pool.example.test']));
    expect(miner.image.config.labels).toEqual(HOSTILE_LABELS);
    expect(miner.findings.map((f) => f.path)).toEqual(expect.arrayContaining([...HOSTILE_FILES]));
    expect(run.connections).toContainEqual(expect.objectContaining({ protocol: 'stratum', port: 3333, host: 'pool.example.test' }));
    const reverseShell = reports.find((r) => r.report.image.digest === digests.reverseShell)!.report;
    expect((reverseShell.behavior as RunRecord).connections).toContainEqual(expect.objectContaining({ dst: '192.0.2.10', port: 4444 }));
  });

  it('searches by repository, tag, digest, package@version, pool domain and a hostile DNS name', async () => {
    const watched = await openPage();
    const { page } = watched;
    const search = async (q: string, kind: string, expected: { kind: string; digests: string[] }) => {
      await page.goto(`${base}/#/`);
      await page.fill('input[name="q"]', q);
      await page.selectOption('select[name="kind"]', kind);
      await page.click('button[type="submit"]');
      // polled: for a moment after the hash changes, the page may still show the last search's hits
      await expect.poll(async () => ({
        kind: ((await page.locator('[data-results-for] > p.muted').first().textContent({ timeout: 1000 }).catch(() => '')) ?? '').replace(/^as an? /, ''),
        digests: await page.locator('ul[data-list="images"] li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-digest'))),
      }), { timeout: 10_000, message: `search ${q}` }).toEqual(expected);
    };
    await search('samples/min', '', { kind: 'repository', digests: [digests.miner] });
    // the hit names the image by its first tag, the one at the edge of the grammar, as text
    const hit = page.locator(`ul[data-list="images"] li[data-digest="${digests.miner}"]`);
    expect(await hit.locator('a').textContent()).toBe(crawled.reference(PUSHED.miner[1]));
    expect(await hit.textContent()).toContain('and 1 more tags');
    await page.screenshot({ path: join(artifacts, 'crawled-search.png'), fullPage: true });
    await search(`${EDGE_REPOSITORY.slice(0, 20)}`, 'repository', { kind: 'repository', digests: [digests.miner] });
    await search(':1.35', '', { kind: 'repository', digests: [digests.clean] });
    await search(`rc.1__${'x'.repeat(50)}`, '', { kind: 'repository', digests: [digests.miner] });
    await search(digests.clean, '', { kind: 'digest', digests: [digests.clean] });
    await search(`${CLEAN_PACKAGE.name}@${CLEAN_PACKAGE.version}`, '', { kind: 'package', digests: [digests.clean] });
    await search('pool.example.test', 'indicator', { kind: 'indicator', digests: [digests.miner] });
    await search(HOSTILE_LOOKUPS[1].recorded, 'indicator', { kind: 'indicator', digests: [digests.miner] });
    expect(await page.inputValue('input[name="q"]')).toBe(HOSTILE_LOOKUPS[1].recorded);
    await expectNothingRan(watched);
    await page.close();
  }, 60_000);

  it("the miner's page: verdict, tags, DNS names, every hostile string as the text it is", async () => {
    const watched = await openPage();
    const { page } = watched;
    await page.goto(`${base}/#/image/${encodeURIComponent(digests.miner)}?platform=linux%2Famd64`);
    await page.waitForSelector('[data-section="verdict"]');
    const verdict = (await page.textContent('[data-section="verdict"]')) ?? '';
    expect(verdict).toContain('MALICIOUS');
    expect(verdict).not.toContain('NOT MALICIOUS');
    expect(await page.locator('[data-section="verdict"] .categories .chip').allTextContents()).toEqual(expect.arrayContaining(['cryptominer', 'misconfiguration']));
    expect(verdict).toContain('contacts pool.example.test:3333 over stratum');
    const tags = page.locator('[data-section="tags"] table[data-table="tags"] tbody tr td:first-child');
    expect(await tags.allTextContents()).toEqual([crawled.reference(PUSHED.miner[1]), crawled.reference(PUSHED.miner[0])]);
    const names = await page.locator('table[data-table="dns"] td').allTextContents();
    for (const l of HOSTILE_LOOKUPS) expect(names, l.recorded).toContain(l.recorded);
    expect(names).toContain('pool.example.test');
    // everything the HTML report shows, with every hidden character (bidi override, escape) shown as an escape
    const argvs = await page.locator('ul[data-tree="processes"] li > span.proc').evaluateAll((els) =>
      els.map((el) => Array.from((el as unknown as { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> }).querySelectorAll('.arg'), (a) => a.textContent ?? '')));
    for (const l of HOSTILE_LOOKUPS) expect(argvs).toContainEqual(['nslookup', shown(l.asked)]);
    expect(argvs).toContainEqual(['sh', '-c', `echo '${shown(HOSTILE.rlo)}'`]);
    const timeline = await page.locator('table[data-table="timeline"] tbody td code').allTextContents();
    expect(timeline.some((t) => t.endsWith(` /tmp/${HOSTILE.img}`)), timeline.join('\n')).toBe(true);
    for (const l of HOSTILE_LOOKUPS) expect(timeline).toContain(`A ${l.recorded}`);
    const findings = (await page.textContent('[data-section="findings"]')) ?? '';
    for (const f of HOSTILE_FILES) expect(findings, f).toContain(`/${shown(f)}`);
    const labelTexts = await page.locator('[data-section="image"] dl.facts dl.facts').evaluate((dl) =>
      Array.from((dl as unknown as { children: ArrayLike<{ textContent: string | null }> }).children, (c) => c.textContent ?? ''));
    const labels = labelTexts.flatMap((text, i) => (i % 2 === 0 ? [`${text}=${labelTexts[i + 1]}`] : [])).sort();
    expect(labels).toEqual(Object.entries(HOSTILE_LABELS).map(([k, v]) => `${shown(k)}=${shown(v)}`).sort());
    expect(await page.locator('[data-section="detonation"] svg circle').count()).toBeGreaterThan(3);
    await page.screenshot({ path: join(artifacts, 'crawled-image.png'), fullPage: true });
    // the top of the page, for the README (docs/site-image.png)
    await page.screenshot({ path: join(artifacts, 'crawled-image-top.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    await expectNothingRan(watched);
    await page.close();
  }, 60_000);

  it('the listings (malicious by category, with pulls; failed and skipped) and the dashboard charts', async () => {
    const watched = await openPage();
    const { page } = watched;
    await page.goto(`${base}/#/malicious?category=cryptominer`);
    const miner = page.locator(`ul[data-list="images"] li[data-digest="${digests.miner}"]`);
    await miner.waitFor();
    expect(await page.locator('ul[data-list="images"] li').count()).toBe(1);
    // a registry's catalog has no pull counts: the column says so
    expect(await miner.textContent()).toContain('pulls unknown');
    expect(await miner.textContent()).toContain('detonated');
    await page.screenshot({ path: join(artifacts, 'crawled-malicious.png'), fullPage: true });
    await page.goto(`${base}/#/malicious?category=backdoor`);
    await page.locator(`ul[data-list="images"] li[data-digest="${digests.reverseShell}"]`).waitFor();
    expect(await page.locator('ul[data-list="images"] li').count()).toBe(1);
    await page.goto(`${base}/#/malicious`);
    await expect.poll(() => page.locator('ul[data-list="images"] li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-digest')).sort())).toEqual([digests.miner, digests.reverseShell].sort());

    await page.goto(`${base}/#/failed`);
    await page.waitForSelector('table[data-table="failed"]');
    const rows: string[][] = [];
    for (const tr of await page.locator('table[data-table="failed"] tbody tr').all()) rows.push((await tr.locator('td').allTextContents()).slice(0, 3));
    expect(rows.sort()).toEqual([
      [crawled.reference(PUSHED.huge[0]), 'skipped', ''],
      [crawled.reference(PUSHED.lying[0]), 'failed', 'analyze'],
    ]);
    await page.screenshot({ path: join(artifacts, 'crawled-failed.png'), fullPage: true });

    await page.goto(`${base}/#/dashboard`);
    // the worker ran with --no-vulns: no severity chart, and the page says why
    await page.waitForSelector('[data-chart="categories"] svg path', { state: 'attached' });
    expect(await page.locator('[data-chart-empty="severity"]').count()).toBe(1);
    expect(await page.textContent('[data-figure="not-matched"]')).toContain('3 of 3 images were not matched against an advisory DB');
    // one bar per category (found by its colour, src/web/site/dashboard.tsx), one per day
    const bars = (chart: string, colour: string) => barsDrawn(page, chart, colour);
    const categories = await page.locator('[data-chart="categories"] svg text').allTextContents();
    expect(categories).toEqual(expect.arrayContaining(['cryptominer', 'backdoor']));
    expect(await bars('categories', '#b3123a')).toBeGreaterThanOrEqual(2);
    expect(await bars('by-day', '#2f6fb0')).toBe(1);
    expect(await page.textContent('[data-figure="judged"]')).toContain('3 images judged (4 tags in 4 repositories), 3 detonated; 2 judged malicious, from repositories with unknown pulls');
    const domains = await page.locator('table[data-table="domains"] td').allTextContents();
    expect(domains).toEqual(expect.arrayContaining([...HOSTILE_LOOKUPS.map((l) => l.recorded), 'pool.example.test']));
    expect(await page.locator('table[data-table="pools"] td').allTextContents()).toContain('pool.example.test:3333');
    await page.screenshot({ path: join(artifacts, 'crawled-dashboard.png'), fullPage: true });
    await expectNothingRan(watched);
    await page.close();
  }, 60_000);

  it('the same site exported (detonate export --site) and opened from disk: search, the miner\'s page, nothing run', async () => {
    const out = join(work, 'export');
    const exported = await runCli(['export', '--store', crawled.url, '--site', out], { DETONATE_SITE_DIR: siteDir });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('exported 3 images (2 malicious, 2 failed scans');
    const index = pathToFileURL(join(out, 'index.html')).href;
    const watched = await openPage();
    const { page, watch, dialogs } = watched;
    await page.goto(`${index}#/?${new URLSearchParams({ q: HOSTILE_LOOKUPS[1].recorded, kind: 'indicator' }).toString()}`);
    await page.locator(`[data-results-for] ul[data-list="images"] li[data-digest="${digests.miner}"] a`).click();
    await page.waitForSelector('ul[data-tree="processes"] li');
    expect(await page.textContent('[data-section="verdict"] .verdict-label')).toBe('MALICIOUS');
    const names = await page.locator('table[data-table="dns"] td code').allTextContents();
    for (const l of HOSTILE_LOOKUPS) expect(names, l.recorded).toContain(l.recorded);
    await page.goto(`${index}#/dashboard`);
    await page.locator('table[data-table="pools"] a', { hasText: 'pool.example.test:3333' }).click();
    await page.locator(`[data-indicator="pool"] li[data-digest="${digests.miner}"]`).waitFor();
    // from disk: the export's own script and data files only
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('img, [onerror]').count()).toBe(0);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors, watch.consoleErrors.join('\n')).toEqual([]);
    expect(await watch.violations()).toEqual([]);
    expect(watch.requests.filter((u) => !u.startsWith(pathToFileURL(out).href + '/'))).toEqual([]);
    await page.close();
  }, 60_000);
});

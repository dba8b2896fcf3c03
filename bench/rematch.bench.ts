/**
 * `npm run bench`: `detonate rematch` over a large synthetic store.
 *
 * 1. Builds advisory DBs from the corpus feeds: "old" (the Debian security tracker's DSA/DLA/DTSA lists and the
 *    Node.js security WG's npm advisories) and "new" (the same plus PyPA's PyPI advisories).
 * 2. In a throwaway PostgreSQL cluster (test/support/postgres.ts), stores BENCH_REMATCH_IMAGES images (default
 *    20,000), each a full report of 100-300 packages (Debian 11 packages with their source packages, npm and PyPI
 *    packages, names from the feeds, at fixed or older versions, and names no advisory has), matched against the
 *    old DB, with its normalised rows, match keys and fingerprint, as `scan --store` records them. Reports are made
 *    from 400 distinct package sets matched once each and stamped out with their own digest and reference.
 * 3. Runs the rematch against the new DB, as `detonate rematch` does (src/rematch/): nearly every image changes (a
 *    whole feed is new), so nearly every report is read, matched, judged and written again.
 * 4. Runs it against "a day's" DB: the new one plus a few new npm advisories. Images whose match fingerprint stays
 *    are only checked; the rest are matched in full. Prints images per minute against the goal of 10,000 per
 *    minute on this machine, with the store's bytes per image.
 * 5. Runs it again: every image is skipped (already matched against that DB).
 * Exit 1 when the goal is missed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { startTestPostgres } from '../test/support/postgres.js';
import { seededRandom } from '../test/support/prng.js';
import { corpusDir } from '../test/support/paths.js';
import { openStore, type Store } from '../src/store/index.js';
import { reportRows } from '../src/store/rows.js';
import { orderReport } from '../src/report/json.js';
import { rematchReport, rematchStore, type RematchSummary } from '../src/rematch/rematch.js';
import { reportMatchSummary, type MatchSummary } from '../src/vuln/fingerprint.js';
import { judgingDigest } from '../src/store/keys.js';
import { updateAdvisoryDb } from '../src/vuln/update.js';
import { AdvisoryDb } from '../src/vuln/db.js';
import { loadVerdictRules } from '../src/verdict/index.js';
import { silentProgress } from '../src/progress/progress.js';
import { formatBytes } from '../src/util/format.js';
import type { Package, Report } from '../src/model/index.js';

const IMAGES = Number(process.env.BENCH_REMATCH_IMAGES ?? 20_000);
const VARIANTS = 400;
const GOAL_PER_MINUTE = 10_000;
const COPY_BATCH = 2000;
/** New advisories in "a day's" DB update (the GitHub advisory DB publishes tens a day across ecosystems). */
const DAILY_ADVISORIES = 8;

/** Every run stores the same images. */
const random = seededRandom;

interface Advised {
  name: string;
  fixed: string | null;
}

/** Package names the DB has advisories for, each with one fixed version it names (null when it names none). */
function advisedNames(dbPath: string, ecosystem: string): Advised[] {
  const require = createRequire(import.meta.url);
  const Sqlite = require('better-sqlite3') as typeof Database;
  const db = new Sqlite(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, min(ranges) AS ranges FROM affected WHERE ecosystem = ? GROUP BY name ORDER BY name').all(ecosystem) as { name: string; ranges: string }[];
    return rows.map((r) => ({ name: r.name, fixed: ((JSON.parse(r.ranges) as { fixed?: string }[]).find((x) => x.fixed)?.fixed) ?? null }));
  } finally {
    db.close();
  }
}

function packageSet(rand: () => number, pools: { debian: Advised[]; npm: Advised[]; pypi: Advised[] }): Package[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const total = 100 + Math.floor(rand() * 201);
  const out: Package[] = [];
  const names = new Set<string>();
  const add = (p: Package) => {
    if (names.has(`${p.type}/${p.name}`)) return;
    names.add(`${p.type}/${p.name}`);
    out.push(p);
  };
  while (out.length < total) {
    const r = rand();
    if (r < 0.55) {
      // Debian: a binary package of an advised source package (fixed, or an older version), or one no advisory names
      const advised = rand() < 0.25 ? pick(pools.debian) : null;
      const source = advised?.name ?? `libbench${Math.floor(rand() * 5000)}`;
      const version = advised ? (advised.fixed && rand() < 0.7 ? advised.fixed : '0.9-1') : `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}-${1 + Math.floor(rand() * 3)}`;
      const name = rand() < 0.5 ? source : `${source}-bin`;
      add({
        name, version, type: 'deb', purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-11`, layer: 0, paths: ['var/lib/dpkg/status'],
        sourceName: source, sourceVersion: version, arch: 'amd64', licenses: ['GPL-2.0-or-later'],
      });
    } else if (r < 0.85) {
      const advised = rand() < 0.3 ? pick(pools.npm) : null;
      const name = advised?.name ?? `bench-module-${Math.floor(rand() * 20_000)}`;
      const version = advised ? (advised.fixed && rand() < 0.6 ? advised.fixed : '0.0.1') : `${Math.floor(rand() * 5)}.${Math.floor(rand() * 30)}.${Math.floor(rand() * 10)}`;
      add({ name, version, type: 'npm', purl: `pkg:npm/${name}@${version}`, layer: 1, paths: [`srv/app/node_modules/${name}/package.json`], licenses: ['MIT'] });
    } else {
      const advised = rand() < 0.3 ? pick(pools.pypi) : null;
      const name = advised?.name ?? `bench-dist-${Math.floor(rand() * 20_000)}`;
      const version = advised ? (advised.fixed && rand() < 0.6 ? advised.fixed : '0.0.1') : `${Math.floor(rand() * 5)}.${Math.floor(rand() * 30)}`;
      add({ name, version, type: 'pypi', purl: `pkg:pypi/${name}@${version}`, layer: 2, paths: [`usr/lib/python3/dist-packages/${name}-${version}.dist-info/METADATA`], licenses: ['BSD-3-Clause'] });
    }
  }
  return out;
}

const DIGEST_MARK = `sha256:${'f'.repeat(64)}`;
const REFERENCE_MARK = 'bench.example.test/REFERENCE-MARK:latest';

function baseReport(packages: Package[]): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: null },
    image: {
      reference: REFERENCE_MARK,
      digest: DIGEST_MARK,
      configDigest: `sha256:${'e'.repeat(64)}`,
      platform: 'linux/amd64',
      os: { id: 'debian', versionId: '11', versionCodename: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)' },
      layers: [0, 1, 2].map((index) => ({ index, diffId: `sha256:${String(index).repeat(64)}`, size: 30_000_000, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', entries: 4000, whiteouts: 0 })),
      config: { user: '', entrypoint: ['/usr/local/bin/app'], cmd: [], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], exposedPorts: ['8080/tcp'], labels: {} },
      files: { count: 12_000, bytes: 90_000_000, removed: 3 },
    },
    packages,
    vulnerabilities: [],
    findings: [
      { category: 'misconfiguration', severity: 'low', title: 'the image runs as root', source: 'static', rule: 'misconfiguration/root-user', removedInLayer: null, evidence: { user: '' } },
    ],
    behavior: null,
    verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: '' },
    notices: [],
    scannedAt: '2026-12-01T00:00:00.000Z',
  };
}

interface Variant {
  json: string;
  report: Report;
  rows: ReturnType<typeof reportRows>;
  /** Its match keys and fingerprint, as `scan --store` records them. */
  match: MatchSummary;
}

/**
 * Stores the images: each package set once through multi-row inserts, as `scan --store` would record it, then copied
 * inside the server to the remaining images with their own digest and reference (report, verdict and rows alike).
 */
async function fillStore(store: Store, variants: readonly Variant[]): Promise<void> {
  const hex = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
  const referenceOf = (n: number) => `bench.example.test/team${n % 97}/app${n}:1.${n % 7}`;
  await store.transaction(async (client) => {
    const rows = variants.map((v, i) => {
      const verdict = v.report.verdict;
      const json = v.json.replaceAll(DIGEST_MARK, hex(i + 1)).replaceAll(REFERENCE_MARK, referenceOf(i + 1));
      return `{"n":${i + 1},"reference":${JSON.stringify(referenceOf(i + 1))},"digest":"${hex(i + 1)}","db":${JSON.stringify(v.report.tool.advisoryDb?.builtAt ?? null)},` +
        `"malicious":${verdict.malicious},"categories":${JSON.stringify(verdict.categories)},"counts":${JSON.stringify(verdict.vulnerabilities)},"report":${json},` +
        `"keys":${JSON.stringify(v.match.keys)},"fingerprint":"${v.match.fingerprint}"}`;
    });
    const { rows: ids } = await client.query<{ id: string; image_digest: string }>(
      `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, status, malicious, categories, vulnerability_counts, report, finished_at,
                          match_keys, match_fingerprint)
       SELECT r.reference, r.digest, 'linux/amd64', '0.1.0', 'bench-rules', r.db, 'done', r.malicious, r.categories, r.counts, r.report, now() - interval '1 day', r.keys, r.fingerprint
         FROM json_to_recordset($1::json) AS r(n int, reference text, digest text, db timestamptz, malicious boolean, categories text[], counts jsonb, report json, keys text[], fingerprint text)
        ORDER BY r.n
       RETURNING id, image_digest`,
      [`[${rows.join(',')}]`],
    );
    const scanIdOf = new Map(ids.map((r) => [r.image_digest, Number(r.id)]));
    const packages: unknown[] = [];
    const vulnerabilities: unknown[] = [];
    const findings: unknown[] = [];
    variants.forEach((v, i) => {
      const scan_id = scanIdOf.get(hex(i + 1));
      for (const p of v.rows.packages) packages.push({ scan_id, ...p });
      for (const x of v.rows.vulnerabilities) vulnerabilities.push({ scan_id, ...x });
      for (const f of v.rows.findings) findings.push({ scan_id, ...f });
    });
    await client.query(
      `INSERT INTO scan_packages (scan_id, name, version, type, purl, layer)
       SELECT scan_id, name, version, type, purl, layer FROM json_to_recordset($1::json) AS r(scan_id bigint, name text, version text, type text, purl text, layer int)`,
      [JSON.stringify(packages)],
    );
    await client.query(
      `INSERT INTO scan_vulnerabilities (scan_id, id, aliases, package, installed_version, fixed_version, severity, purl)
       SELECT scan_id, id, aliases, package, installed_version, fixed_version, severity, purl
         FROM json_to_recordset($1::json) AS r(scan_id bigint, id text, aliases text[], package text, installed_version text, fixed_version text, severity text, purl text)`,
      [JSON.stringify(vulnerabilities)],
    );
    await client.query(
      `INSERT INTO scan_findings (scan_id, category, severity, source, rule, title, path, sha256)
       SELECT scan_id, category, severity, source, rule, title, path, sha256
         FROM json_to_recordset($1::json) AS r(scan_id bigint, category text, severity text, source text, rule text, title text, path text, sha256 text)`,
      [JSON.stringify(findings)],
    );
  });
  // image n (n > VARIANTS) is a copy of image ((n - 1) % VARIANTS) + 1, made inside the server
  for (let first = variants.length + 1; first <= IMAGES; first += COPY_BATCH) {
    const last = Math.min(IMAGES, first + COPY_BATCH - 1);
    await store.transaction(async (client) => {
      await client.query(
        `CREATE TEMP TABLE copies ON COMMIT DROP AS
         SELECT g AS n, s.id AS source, 'bench.example.test/team' || (g % 97) || '/app' || g || ':1.' || (g % 7) AS reference, 'sha256:' || lpad(to_hex(g), 64, '0') AS digest
           FROM generate_series($1::int, $2::int) g JOIN scans s ON s.id = (SELECT min(id) FROM scans) + (g - 1) % $3`,
        [first, last, variants.length],
      );
      await client.query(
        `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, status, malicious, categories, vulnerability_counts, report, finished_at,
                            match_keys, match_fingerprint)
         SELECT c.reference, c.digest, s.platform, s.tool_version, s.rules_digest, s.advisory_db_built_at, 'done', s.malicious, s.categories, s.vulnerability_counts,
                replace(replace(s.report::text, s.image_digest, c.digest), s.reference, c.reference)::json, s.finished_at, s.match_keys, s.match_fingerprint
           FROM copies c JOIN scans s ON s.id = c.source ORDER BY c.n`,
      );
      await client.query("CREATE TEMP TABLE made ON COMMIT DROP AS SELECT c.source, s.id FROM copies c JOIN scans s ON s.image_digest = c.digest AND s.status = 'done'");
      await client.query('INSERT INTO scan_packages (scan_id, name, version, type, purl, layer) SELECT m.id, p.name, p.version, p.type, p.purl, p.layer FROM made m JOIN scan_packages p ON p.scan_id = m.source');
      await client.query(
        `INSERT INTO scan_vulnerabilities (scan_id, id, aliases, package, installed_version, fixed_version, severity, purl)
         SELECT m.id, v.id, v.aliases, v.package, v.installed_version, v.fixed_version, v.severity, v.purl FROM made m JOIN scan_vulnerabilities v ON v.scan_id = m.source`,
      );
      await client.query(
        `INSERT INTO scan_findings (scan_id, category, severity, source, rule, title, path, sha256)
         SELECT m.id, f.category, f.severity, f.source, f.rule, f.title, f.path, f.sha256 FROM made m JOIN scan_findings f ON f.scan_id = m.source`,
      );
    });
    process.stdout.write(`  stored ${last}/${IMAGES} images\r`);
  }
  process.stdout.write('\n');
  await store.pool.query('VACUUM ANALYZE');
}

async function databaseBytes(store: Store): Promise<number> {
  const { rows } = await store.pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n');
  return Number(rows[0]!.n);
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'detonate-rematch-bench-'));
  const server = await startTestPostgres();
  try {
    const feeds = join(corpusDir, 'vuln');
    const oldDb = join(work, 'old.sqlite');
    const newDb = join(work, 'new.sqlite');
    const build = (dbPath: string, from: string[]) => updateAdvisoryDb({ from, dbPath, downloadDir: join(work, 'downloads'), progress: silentProgress });
    let t = Date.now();
    await build(oldDb, [join(feeds, 'debian-security-tracker'), join(feeds, 'nodejs-security-wg')]);
    await build(newDb, [join(feeds, 'debian-security-tracker'), join(feeds, 'nodejs-security-wg'), join(feeds, 'osv-pypi')]);
    console.log(`advisory DBs built from the corpus feeds in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const pools = { debian: advisedNames(newDb, 'debian:11'), npm: advisedNames(newDb, 'npm'), pypi: advisedNames(newDb, 'pypi') };
    const rules = await loadVerdictRules();
    const judging = judgingDigest({ verdictRules: rules, ignore: null });
    // a day's advisories: the new DB's feeds and a few new npm advisories
    const dailyDb = join(work, 'daily.sqlite');
    const daily = join(work, 'daily-feed');
    mkdirSync(daily);
    const dailyRand = random(29);
    for (let i = 0; i < DAILY_ADVISORIES; i++) {
      const name = pools.npm[Math.floor(dailyRand() * pools.npm.length)]!.name;
      writeFileSync(join(daily, `daily-${i}.json`), JSON.stringify({
        schema_version: '1.6.0', id: `GHSA-bnch-${String(i).padStart(4, '0')}-0000`, modified: '2099-01-01T00:00:00Z', aliases: [`CVE-2099-${7000 + i}`],
        summary: `a new advisory for ${name}`, affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '999.0.0' }] }] }],
        database_specific: { severity: 'HIGH' },
      }));
    }
    await build(dailyDb, [join(feeds, 'debian-security-tracker'), join(feeds, 'nodejs-security-wg'), join(feeds, 'osv-pypi'), daily]);
    const old = AdvisoryDb.open(oldDb);
    const rand = random(13);
    const variants: Variant[] = [];
    for (let i = 0; i < VARIANTS; i++) {
      const report = rematchReport(baseReport(packageSet(rand, pools)), { db: old, rules, ignore: null });
      variants.push({ report, json: JSON.stringify(orderReport(report)), rows: reportRows(report), match: reportMatchSummary(report, judging)! });
    }
    old.close();
    const avg = (f: (v: Variant) => number) => Math.round(variants.reduce((n, v) => n + f(v), 0) / variants.length);
    console.log(`${VARIANTS} package sets: ${avg((v) => v.report.packages.length)} packages, ${avg((v) => v.report.vulnerabilities.length)} vulnerabilities (old DB) and ${formatBytes(avg((v) => v.json.length))} of report JSON per image on average`);

    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      t = Date.now();
      await fillStore(store, variants);
      const before = await databaseBytes(store);
      console.log(`stored ${IMAGES} images in ${((Date.now() - t) / 1000).toFixed(1)} s: ${formatBytes(before)}, ${formatBytes(before / IMAGES)} per image`);

      const rematch = async (label: string, path: string): Promise<RematchSummary> => {
        const db = AdvisoryDb.open(path);
        try {
          const sizeBefore = await databaseBytes(store);
          const summary = await rematchStore(store, { db, rules, ignore: null });
          const grown = (await databaseBytes(store)) - sizeBefore;
          const share = (n: number) => `${((100 * n) / Math.max(1, summary.images)).toFixed(1)}%`;
          console.log(
            `rematch, ${label}: ${summary.rematched} images in ${summary.seconds.toFixed(1)} s: ${summary.imagesPerMinute} images/min; ` +
              `${summary.changed} changed (${share(summary.changed)}), ${summary.unchanged} unchanged (${summary.unchangedByFingerprint} by fingerprint); ` +
              `vulnerabilities +${summary.vulnerabilitiesAdded} -${summary.vulnerabilitiesRemoved}`,
          );
          const tm = summary.timings;
          console.log(`  reading ${tm.readSeconds.toFixed(1)} s, matching and judging ${tm.judgeSeconds.toFixed(1)} s, writing ${tm.writeSeconds.toFixed(1)} s (reads and writes overlap the judging); store +${formatBytes(grown / IMAGES)} per image`);
          return summary;
        } finally {
          db.close();
        }
      };
      const feed = await rematch('a new feed (PyPI advisories: most images change)', newDb);
      const day = await rematch(`a day's advisories (${DAILY_ADVISORIES} new npm advisories)`, dailyDb);
      const after = await databaseBytes(store);
      console.log(`store after both: ${formatBytes(after)}, ${formatBytes(after / IMAGES)} per image`);
      const db = AdvisoryDb.open(dailyDb);
      const again = await rematchStore(store, { db, rules, ignore: null }).finally(() => db.close());
      console.log(`rematch again with the same DB: ${again.skipped} skipped, ${again.rematched} re-matched in ${again.seconds.toFixed(1)} s`);
      const met = day.imagesPerMinute >= GOAL_PER_MINUTE && day.rematched === IMAGES && feed.rematched === IMAGES && again.rematched === 0;
      console.log(`${met ? 'goal met' : 'GOAL MISSED'}: ${day.imagesPerMinute} images/min after a day's advisories (goal ≥ ${GOAL_PER_MINUTE}/min); ${feed.imagesPerMinute} images/min when most images change`);
      return met ? 0 : 1;
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();

/**
 * `npm run bench`: static-scan speed against a floor measured in the same run.
 *
 * 1. Builds once (cached in .cache/images/) a real Debian image of 150 MB or more with mmdebstrap, packed as an
 *    OCI archive: the Debian rootfs as one gzip layer plus a small application layer.
 * 2. Floor: decompressing and walking the same layer blobs with GNU tar (`tar -tzf`), best of N.
 * 3. `detonate scan --static-only` of the archive with a cold cache, best of N, with its peak RSS.
 * 4. The same scan again with the layer cache warm.
 * Targets (issue 2): scan ≤ 1.5× floor, peak RSS < 300 MB, warm scan < 10% of the cold one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Package } from '../src/model/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianImage } from '../test/support/debian-image.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 3);

function run(cmd: string, args: string[], options: { cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
}

/** 1,000 real package names from the feeds (Debian sources, npm, PyPI, Go), at old versions so that many match. */
function benchPackages(corpus: string, count: number): Package[] {
  const out: Package[] = [];
  const debian = readFileSync(join(corpus, 'debian-security-tracker', 'DSA-list'), 'utf8').matchAll(/\[bullseye\] - (\S+) /g);
  for (const [, name] of debian) if (out.length < count / 2 && !out.some((p) => p.name === name)) out.push({ name: name!, version: '0.1-1', type: 'deb', purl: `pkg:deb/debian/${name}@0.1-1`, layer: 0, paths: [] });
  const npm = JSON.parse(readFileSync(join(corpus, 'nodejs-security-wg', 'npm-advisories.json'), 'utf8')) as { module_name?: string }[];
  for (const a of npm) if (a.module_name && out.length < (count * 3) / 4) out.push({ name: a.module_name, version: '0.0.1', type: 'npm', purl: `pkg:npm/${a.module_name}@0.0.1`, layer: 1, paths: [] });
  for (const line of readFileSync(join(corpus, 'osv-pypi', 'pypa-osv.jsonl'), 'utf8').split('\n')) {
    if (out.length >= count) break;
    const name = /"name": ?"([^"]+)"/.exec(line)?.[1];
    if (name) out.push({ name, version: '0.0.1', type: 'pypi', purl: `pkg:pypi/${name}@0.0.1`, layer: 1, paths: [] });
  }
  return out.slice(0, count);
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Runs the built CLI under GNU time; returns wall seconds and peak RSS in bytes. */
function scanOnce(cacheDir: string): { seconds: number; rssBytes: number } {
  const cli = join(root, 'dist', 'bin', 'detonate.mjs');
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'scan', '--static-only', '--quiet', '--format', 'json', '--output', '/dev/null', `oci-archive:${archive}`], {
    env: { ...process.env, DETONATE_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = r.stderr.toString();
  if (r.status !== 0) throw new Error(`scan failed (${r.status}): ${stderr.slice(-2000)}`);
  const kb = Number(stderr.trim().split('\n').pop());
  return { seconds, rssBytes: kb * 1024 };
}

console.error('preparing the Debian benchmark image (built once with mmdebstrap, then cached) …');
const image = await debianImage();
const archive = image.archive;
run('npm', ['run', '--silent', 'build'], { cwd: root });

const imageBytes = statSync(archive).size;
const layerFiles = image.layers;
const blobPaths = layerFiles.map((l) => join(image.layoutDir, 'blobs', 'sha256', l.digest.slice(7)));
const rootfsBytes = statSync(image.rootfsTar).size;

const floor = Math.min(...Array.from({ length: runs }, () => timeIt(() => { for (const b of blobPaths) run('tar', ['-tzf', b]); })));
const cold: { seconds: number; rssBytes: number }[] = [];
let warm = Infinity;
for (let i = 0; i < runs; i++) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'detonate-bench-cache-'));
  try {
    cold.push(scanOnce(cacheDir));
    warm = Math.min(warm, scanOnce(cacheDir).seconds);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
const best = Math.min(...cold.map((c) => c.seconds));
const peak = Math.max(...cold.map((c) => c.rssBytes));
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const targets: { name: string; value: number; limit: number; shown: string }[] = [
  { name: 'cold scan / floor', value: best / floor, limit: 1.5, shown: `${(best / floor).toFixed(2)}x` },
  { name: 'peak RSS', value: peak / 1024 / 1024, limit: 300, shown: mb(peak) },
  { name: 'warm scan / cold scan', value: warm / best, limit: 0.1, shown: `${((warm / best) * 100).toFixed(1)}%` },
];
console.log(`image: ${mb(imageBytes)} archive, ${mb(rootfsBytes)} rootfs, ${layerFiles.length} layers; best of ${runs}`);
console.log(`floor (tar -tzf of each layer): ${floor.toFixed(2)} s`);
console.log(`detonate scan --static-only, cold cache: ${best.toFixed(2)} s; warm layer cache: ${warm.toFixed(2)} s`);
// Vulnerability stage (issue 3): building the DB from the whole corpus, and matching 1,000 packages.
const corpusVuln = join(root, '..', 'shared', 'corpus', 'vuln');
if (existsSync(corpusVuln)) {
  const dbDir = mkdtempSync(join(tmpdir(), 'detonate-bench-db-'));
  try {
    const dbPath = join(dbDir, 'advisories.sqlite');
    const cli = join(root, 'dist', 'bin', 'detonate.mjs');
    const build = timeIt(() => run(process.execPath, [cli, 'db', 'update', '--quiet', '--db', dbPath, '--from', corpusVuln]));
    const { AdvisoryDb } = await import('../src/vuln/db.js');
    const { matchPackages } = await import('../src/vuln/match.js');
    const packages = benchPackages(corpusVuln, 1000);
    const t = process.hrtime.bigint();
    const db = AdvisoryDb.open(dbPath);
    const { vulnerabilities } = matchPackages(db, packages, { id: 'debian', versionId: '11' });
    const matchSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    db.close();
    console.log(`advisory DB from the whole corpus: ${build.toFixed(1)} s; matching ${packages.length} packages: ${(matchSeconds * 1000).toFixed(0)} ms (${vulnerabilities.length} vulnerabilities)`);
    targets.push({ name: 'advisory DB build', value: build, limit: 60, shown: `${build.toFixed(1)} s` });
    targets.push({ name: 'matching 1,000 packages', value: matchSeconds, limit: 1, shown: `${(matchSeconds * 1000).toFixed(0)} ms` });
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
  }
}

let missed = 0;
for (const t of targets) {
  const ok = t.value <= t.limit;
  if (!ok) missed++;
  const unit = t.name === 'peak RSS' ? `${t.limit} MB` : t.name.startsWith('warm') ? `${t.limit * 100}%` : t.name.includes('/') ? `${t.limit}x` : `${t.limit} s`;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${t.name}: ${t.shown} (target ≤ ${unit})`);
}
process.exitCode = missed ? 1 : 0;

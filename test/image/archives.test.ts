import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagesDir } from '../support/paths.js';
import { openImageSource } from '../../src/image/open.js';
import { BlobCache } from '../../src/image/cache.js';
import { resolveLimits } from '../../src/config/limits.js';
import { analyzeImage, scanReference } from '../../src/scan/scan.js';
import { silentProgress } from '../../src/progress/progress.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { expectValidReport } from '../support/report-schema.js';

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'detonate-archives-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function resolve(ref: string, platformExplicit = false): Promise<ResolvedImage[]> {
  const limits = resolveLimits();
  const source = await openImageSource(ref, { limits, cache: new BlobCache(cacheDir), insecureRegistries: [], platformExplicit });
  return source.resolve({ os: 'linux', architecture: 'amd64' });
}

async function merged(ref: string) {
  const [image] = await resolve(ref);
  const result = await analyzeImage(image!, { limits: resolveLimits(), cacheDir, progress: silentProgress, noLayerCache: true });
  return { image: image!, ...result };
}

// The dive test image: busybox plus 13 Dockerfile steps that add, copy, move, chmod and delete files.
const DIVE_STEPS = [
  /ADD file:/,
  /ADD (file:|README.md \/somefile.txt)/,
  /mkdir -p \/root\/example\/really\/nested/,
  /cp \/somefile.txt \/root\/example\/somefile1.txt/,
  /chmod 444 \/root\/example\/somefile1.txt/,
  /cp \/somefile.txt \/root\/example\/somefile2.txt/,
  /cp \/somefile.txt \/root\/example\/somefile3.txt/,
  /mv \/root\/example\/somefile3.txt \/root\/saved.txt/,
  /cp \/root\/saved.txt \/root\/.saved.txt/,
  /rm -rf \/root\/example\//,
  /ADD (dir:|.scripts\/ \/root\/.data\/)/,
  /cp \/root\/saved.txt \/tmp\/saved.again1.txt/,
  /cp \/root\/saved.txt \/root\/.data\/saved.again2.txt/,
  /chmod \+x \/root\/saved.txt/,
];

describe.each([
  ['docker save', 'dive/test-docker-image.tar'],
  ['kaniko', 'dive/test-kaniko-image.tar'],
])('%s archive of the dive test image', (_tool, file) => {
  it('has 14 layers attributed to their Dockerfile steps, and the config', async () => {
    const { image } = await merged(`docker-archive:${join(imagesDir, file)}`);
    expect(image.layers).toHaveLength(14);
    image.layers.forEach((layer, i) => expect(layer.createdBy).toMatch(DIVE_STEPS[i]!));
    expect(image.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(image.config.config?.Cmd).toEqual(['sh']);
    expect(new Set(image.layers.map((l) => l.diffId)).size).toBeGreaterThan(10);
  });

  it('merges layers with whiteouts: each file from the layer that last wrote it, deleted files kept aside', async () => {
    const { merged: view } = await merged(`docker-archive:${join(imagesDir, file)}`);
    const layerOf = (p: string) => view.files.get(p)?.layer;
    expect(layerOf('bin/busybox')).toBe(0);
    expect(layerOf('somefile.txt')).toBe(1);
    expect(layerOf('root/.saved.txt')).toBe(8);
    expect(layerOf('root/.data/tag.sh')).toBe(10);
    expect(layerOf('tmp/saved.again1.txt')).toBe(11);
    expect(layerOf('root/.data/saved.again2.txt')).toBe(12);
    expect(layerOf('root/saved.txt')).toBe(13); // chmod +x copies the file up into the last layer
    expect(view.files.get('root/saved.txt')!.mode & 0o111).not.toBe(0);
    // `rm -rf /root/example/` (layer 9) removes the directory and all below it
    expect([...view.files.keys()].filter((p) => p.startsWith('root/example'))).toEqual([]);
    const removed = (p: string) => view.removed.filter((f) => f.path === p).map((f) => [f.layer, f.removedInLayer]);
    expect(removed('root/example/somefile3.txt')).toEqual([[6, 7]]); // moved away by `mv` in layer 7
    expect(removed('root/example/somefile2.txt')).toEqual([[5, 9]]);
    expect(removed('root/example/somefile1.txt')).toEqual([[3, 4], [4, 9]]); // replaced by chmod, then deleted
    expect(removed('root/example/really/nested')).toEqual([[2, 9]]);
  });
});

describe('BuildKit OCI archives (dive)', () => {
  it.each([
    ['gzip', 'test-oci-gzip-image.tar', 'application/vnd.oci.image.layer.v1.tar+gzip', ['README.md']],
    ['zstd', 'test-oci-zstd-image.tar', 'application/vnd.oci.image.layer.v1.tar+zstd', ['README.md']],
    ['uncompressed', 'test-oci-uncompressed-image.tar', 'application/vnd.oci.image.layer.v1.tar', ['README.md']],
    // eStargz keeps its table of contents as a file in the layer; a container sees it too
    ['eStargz', 'test-oci-estargz-image.tar', 'application/vnd.oci.image.layer.v1.tar+gzip', ['README.md', 'stargz.index.json']],
  ])('%s: one arm64 layer with README.md (11189 bytes), history and config', async (_kind, file, mediaType, paths) => {
    const { image, merged: view } = await merged(`oci-archive:${join(imagesDir, 'dive', file)}`);
    expect(image.platform).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(image.layers).toHaveLength(1);
    expect(image.layers[0]!.mediaType).toBe(mediaType);
    expect(image.layers[0]!.createdBy).toBe('COPY README.md /README.md # buildkit');
    expect([...view.files.keys()].sort()).toEqual(paths);
    expect(view.files.get('README.md')!.size).toBe(11189);
    expect(image.config.config?.WorkingDir).toBe('/');
  });

  it('refuses the arm64-only image when another platform is asked for explicitly', async () => {
    await expect(resolve(`oci-archive:${join(imagesDir, 'dive', 'test-oci-zstd-image.tar')}`, true)).rejects.toThrow(/no image for platform linux\/amd64.*\n.*available: linux\/arm64/);
  });
});

describe('go-containerregistry archives', () => {
  it("reads Docker's hello-world (Docker 25 save: manifest.json plus an OCI index) with its real manifest digest", async () => {
    const { image, merged: view } = await merged(`docker-archive:${join(imagesDir, 'ggcr', 'hello-world-v25.tar')}`);
    expect(image.layers).toHaveLength(1);
    expect(image.digest).toBe('sha256:ee301c921b8aadc002973b2e0c3da17d701dcd994b606769a7e6eaa100b81d44');
    expect(image.config.config?.Cmd).toEqual(['/hello']);
    expect([...view.files.keys()]).toEqual(['hello']);
    expect(view.files.get('hello')!.mode & 0o111).not.toBe(0);
  });

  it('the same archive as oci-archive: says its index is empty and points to docker-archive:', async () => {
    await expect(resolve(`oci-archive:${join(imagesDir, 'ggcr', 'hello-world-v25.tar')}`)).rejects.toThrow(/lists no images[\s\S]*docker-archive/);
  });

  it('a bundle of several images asks which one, and picks by tag or by position', async () => {
    const path = join(imagesDir, 'ggcr', 'test_bundle.tar');
    await expect(resolve(`docker-archive:${path}`)).rejects.toThrow(/holds 2 images[\s\S]*test_image_2, test_image_1/);
    const [byTag] = await resolve(`docker-archive:${path}:test_image_1`);
    const [byIndex] = await resolve(`docker-archive:${path}@1`);
    expect(byTag!.configDigest).toBe(byIndex!.configDigest);
    const [first] = await resolve(`docker-archive:${path}@0`);
    expect(first!.configDigest).not.toBe(byTag!.configDigest);
  });

  it('follows a layer stored as a link inside the archive', async () => {
    const { image, merged: view } = await merged(`docker-archive:${join(imagesDir, 'ggcr', 'test_link.tar')}:bazel/v1/tarball:test_image_3`);
    expect(image.layers).toHaveLength(2);
    expect(view.files.size).toBeGreaterThan(0);
  });

  it('applies a whiteout of a whole directory', async () => {
    const { image, merged: view } = await merged(`docker-archive:${join(imagesDir, 'ggcr', 'whiteout_dir.tar')}`);
    expect(image.layers).toHaveLength(4);
    expect(view.removed.length).toBeGreaterThan(0);
    for (const f of view.removed) expect(view.files.has(f.path) && view.files.get(f.path)!.layer <= f.layer).toBe(false);
  });

  it('a docker archive whose manifest.json is null gives a clear error', async () => {
    await expect(scanReference(`docker-archive:${join(imagesDir, 'ggcr', 'null_manifest.tar')}`, { cacheDir })).rejects.toThrow(/manifest.json is not a docker archive manifest/);
  });
});

describe('reports of every archive kind', () => {
  it.each([
    ['docker save, 14 layers with whiteouts', 'docker-archive:dive/test-docker-image.tar', 14, 'linux/amd64'],
    ['kaniko', 'docker-archive:dive/test-kaniko-image.tar', 14, 'linux/amd64'],
    ['BuildKit OCI, zstd, arm64 only', 'oci-archive:dive/test-oci-zstd-image.tar', 1, 'linux/arm64'],
    ['BuildKit OCI, eStargz', 'oci-archive:dive/test-oci-estargz-image.tar', 1, 'linux/arm64'],
    ['Docker 25 save of hello-world (arm64)', 'docker-archive:ggcr/hello-world-v25.tar', 1, 'linux/arm64'],
    ['a layer stored as a link', 'docker-archive:ggcr/test_link.tar:bazel/v1/tarball:test_image_3', 2, 'linux/amd64'],
    ['a whiteout of a whole directory', 'docker-archive:ggcr/whiteout_dir.tar', 4, 'linux/amd64'],
  ])('%s: the static report validates against the schema', async (_kind, ref, layers, platform) => {
    const [transport, ...rest] = ref.split(':');
    const reports = await scanReference(`${transport}:${join(imagesDir, rest.join(':'))}`, { cacheDir, noLayerCache: true });
    expect(reports).toHaveLength(1);
    const report = reports[0]!;
    expectValidReport(report, ref);
    expect(report.image.layers).toHaveLength(layers);
    expect(report.image.platform).toBe(platform);
    expect(report.behavior).toBeNull();
  }, 60_000);
});

describe('OCI layout directories (oci:DIR[:TAG])', () => {
  it('picks an image by tag and says which tags exist when the tag is wrong', async () => {
    const { writeOciDirectory } = await import('../support/image-builder.js');
    const dir = join(cacheDir, 'layout');
    const built = await writeOciDirectory(dir, { tag: '1.0', layers: [{ entries: [{ name: 'etc/motd', content: 'hi' }] }] });
    const [image] = await resolve(`oci:${dir}:1.0`);
    expect(image!.digest).toBe(built.manifestDigest);
    expect(image!.layers.map((l) => l.diffId)).toEqual(built.diffIds);
    await expect(resolve(`oci:${dir}:2.0`)).rejects.toThrow(/no image tagged "2.0"[\s\S]*tags in this layout: 1.0/);
    await expect(resolve(`oci:${join(cacheDir, 'missing-dir')}`)).rejects.toThrow(/is not a directory/);
  });

  it('--platform all returns every image of a multi-platform layout; one platform picks one', async () => {
    const { buildOciLayout } = await import('../support/image-builder.js');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const dir = join(cacheDir, 'multi');
    const amd = await buildOciLayout({ architecture: 'amd64', layers: [{ entries: [{ name: 'arch', content: 'amd64' }] }] });
    const arm = await buildOciLayout({ architecture: 'arm64', layers: [{ entries: [{ name: 'arch', content: 'arm64' }] }] });
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] as unknown[] };
    for (const built of [amd, arm]) {
      for (const [rel, data] of built.files) {
        if (rel === 'index.json') index.manifests.push(...(JSON.parse(data.toString()) as { manifests: unknown[] }).manifests);
        else {
          mkdirSync(join(dir, rel, '..'), { recursive: true });
          writeFileSync(join(dir, rel), data);
        }
      }
    }
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    const source = await openImageSource(`oci:${dir}`, { limits: resolveLimits(), cache: new BlobCache(cacheDir), insecureRegistries: [], platformExplicit: true });
    const all = await source.resolve('all');
    expect(all.map((i) => i.platform.architecture)).toEqual(['amd64', 'arm64']);
    const [arm64] = await source.resolve({ os: 'linux', architecture: 'arm64' });
    expect(arm64!.digest).toBe(arm.manifestDigest);
    await expect(source.resolve({ os: 'linux', architecture: 's390x' })).rejects.toThrow(/no image for platform linux\/s390x[\s\S]*available: linux\/amd64, linux\/arm64/);
  });
});

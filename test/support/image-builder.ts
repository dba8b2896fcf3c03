/**
 * Builds real image archives (OCI layout dir/tar, docker save tar) from layer specs, for tests, the bundled example
 * image and the benchmark. Entries are written as given, so tests can make hostile layers (traversal, links, bombs).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface EntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
}

export interface LayerSpec {
  entries: EntrySpec[];
  /** A blob made by hand (a bomb, a corrupt stream): used as the layer as it is, `entries` ignored. */
  raw?: { blob: Buffer; diffId: string; mediaType: string };
  compression?: 'gzip' | 'zstd' | 'none';
  createdBy?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  architecture?: string;
  os?: string;
  config?: Record<string, unknown>;
  /** Tag written as org.opencontainers.image.ref.name (OCI) or RepoTags (docker). */
  tag?: string;
  /** diffIDs the config claims instead of the layers' own (a hostile image lying about its layers). */
  claimDiffIds?: string[];
}

const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');

export async function layerTar(entries: EntrySpec[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) => {
      p.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          mtime: FIXED_MTIME,
          uid: 0,
          gid: 0,
          ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
          ...(type === 'file' ? { size: content.length } : {}),
        },
        type === 'file' ? content : Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function compress(tar: Buffer, compression: LayerSpec['compression']): { blob: Buffer; mediaType: string } {
  if (compression === 'none') return { blob: tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
  if (compression === 'zstd') {
    const { compress: zstd } = require('zstd-napi') as { compress: (b: Buffer) => Buffer };
    return { blob: zstd(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' };
  }
  return { blob: gzipSync(tar, { level: 6 }), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

export interface BuiltImage {
  /** Files of the OCI layout: relative path → bytes. */
  files: Map<string, Buffer>;
  manifestDigest: string;
  configDigest: string;
  diffIds: string[];
  layerDigests: string[];
}

export async function buildOciLayout(spec: ImageSpec): Promise<BuiltImage> {
  const files = new Map<string, Buffer>();
  const put = (data: Buffer): string => {
    const digest = sha256(data);
    files.set(`blobs/sha256/${digest.slice(7)}`, data);
    return digest;
  };
  const diffIds: string[] = [];
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  const history: { created: string; created_by: string }[] = [];
  for (const layer of spec.layers) {
    if (layer.raw) {
      diffIds.push(layer.raw.diffId);
      layers.push({ mediaType: layer.raw.mediaType, digest: put(layer.raw.blob), size: layer.raw.blob.length });
      history.push({ created: FIXED_MTIME.toISOString(), created_by: layer.createdBy ?? 'test layer' });
      continue;
    }
    const tar = await layerTar(layer.entries);
    diffIds.push(sha256(tar));
    const { blob, mediaType } = compress(tar, layer.compression);
    layers.push({ mediaType, digest: put(blob), size: blob.length });
    history.push({ created: FIXED_MTIME.toISOString(), created_by: layer.createdBy ?? 'test layer' });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      created: FIXED_MTIME.toISOString(),
      config: spec.config ?? { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: spec.claimDiffIds ?? diffIds },
      history,
    }),
  );
  const configDigest = put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers,
    }),
  );
  const manifestDigest = put(manifest);
  files.set(
    'index.json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manifestDigest,
            size: manifest.length,
            platform: { os: spec.os ?? 'linux', architecture: spec.architecture ?? 'amd64' },
            ...(spec.tag ? { annotations: { 'org.opencontainers.image.ref.name': spec.tag } } : {}),
          },
        ],
      }),
    ),
  );
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  return { files, manifestDigest, configDigest, diffIds, layerDigests: layers.map((l) => l.digest) };
}

/** Writes a map of relative paths → bytes as one tar archive file (sorted, deterministic). */
export async function writeTarFile(path: string, files: Map<string, Buffer>): Promise<void> {
  const entries: EntrySpec[] = [...files.keys()].sort().map((name) => ({ name, content: files.get(name)! }));
  await fs.writeFile(path, await layerTar(entries));
}

export async function writeOciArchive(path: string, spec: ImageSpec): Promise<BuiltImage> {
  const built = await buildOciLayout(spec);
  await writeTarFile(path, built.files);
  return built;
}

export async function writeOciDirectory(dir: string, spec: ImageSpec): Promise<BuiltImage> {
  const built = await buildOciLayout(spec);
  for (const [rel, data] of built.files) {
    await fs.mkdir(join(dir, rel, '..'), { recursive: true });
    await fs.writeFile(join(dir, rel), data);
  }
  return built;
}

/** `docker save` layout: manifest.json + config + `<n>/layer.tar` (uncompressed, or gzip when asked, like kaniko). */
export async function writeDockerArchive(path: string, spec: ImageSpec): Promise<BuiltImage> {
  const built = await buildOciLayout({ ...spec, layers: spec.layers.map((l) => ({ ...l, compression: l.compression ?? 'none' })) });
  const files = new Map<string, Buffer>();
  const configData = built.files.get(`blobs/sha256/${built.configDigest.slice(7)}`)!;
  files.set(`${built.configDigest.slice(7)}.json`, configData);
  const layerPaths: string[] = [];
  built.layerDigests.forEach((d, i) => {
    const name = `${String(i).padStart(3, '0')}${spec.layers[i]!.compression === 'gzip' ? '.tar.gz' : '/layer.tar'}`;
    files.set(name, built.files.get(`blobs/sha256/${d.slice(7)}`)!);
    layerPaths.push(name);
  });
  files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: `${built.configDigest.slice(7)}.json`, RepoTags: spec.tag ? [spec.tag] : [], Layers: layerPaths }])));
  await writeTarFile(path, files);
  return built;
}

/**
 * Layer entries for every file, directory and symlink under `dir` (a real tree on disk: an extracted Debian
 * package, a node_modules tree), named under `prefix` in the image. Modes are kept; other file types are skipped.
 */
export async function directoryEntries(dir: string, prefix: string): Promise<EntrySpec[]> {
  const out: EntrySpec[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const d of await fs.readdir(abs, { withFileTypes: true })) {
      const childAbs = join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const name = `${prefix.replace(/\/+$/, '')}/${childRel}`.replace(/^\/+/, '');
      if (d.isSymbolicLink()) out.push({ name, type: 'symlink', linkname: await fs.readlink(childAbs) });
      else if (d.isDirectory()) {
        out.push({ name, type: 'directory', mode: 0o755 });
        await walk(childAbs, childRel);
      } else if (d.isFile()) {
        const stat = await fs.stat(childAbs);
        out.push({ name, content: await fs.readFile(childAbs), mode: stat.mode & 0o7777 });
      }
    }
  };
  await walk(dir, '');
  return out;
}

/**
 * A zstd frame written by hand: `head` as a raw block, then `zeroBytes` of zeros as RLE blocks (4 bytes for each
 * 128 KiB), so 10 GiB of zeros take about 330 KB. The frame names no content size, as a streaming writer's would.
 */
export function zstdZeroBomb(head: Buffer, zeroBytes: number): Buffer {
  const BLOCK = 128 * 1024;
  const blockHeader = (size: number, type: number, last: boolean) => {
    const v = (size << 3) | (type << 1) | (last ? 1 : 0);
    return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
  };
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3])];
  const blocks = Math.ceil(zeroBytes / BLOCK);
  parts.push(blockHeader(head.length, 0, blocks === 0), head);
  for (let i = 0; i < blocks; i++) {
    const size = Math.min(BLOCK, zeroBytes - i * BLOCK);
    parts.push(blockHeader(size, 1, i === blocks - 1), Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

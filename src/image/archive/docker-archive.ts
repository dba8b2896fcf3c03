import type { Readable } from 'node:stream';
import { ImageError } from '../errors.js';
import { digestOf, VerifyingStream } from '../digest.js';
import { buildResolvedImage, MEDIA_TYPES, parseImageConfig, parseManifestOrIndex, type ImageManifest } from '../manifest.js';
import type { ImageSource, PlatformSelector, ResolvedImage } from '../types.js';
import { formatPlatform } from '../types.js';
import type { Limits } from '../../config/limits.js';
import { TarIndex } from './tar-index.js';
import { ShapeError, arrayAt, objectAt, optionalStringArray, stringAt } from '../validate.js';
import { detectCompression } from '../../layers/compression.js';

interface ArchiveEntry {
  Config: string;
  RepoTags?: string[];
  Layers: string[];
}

/** manifest.json of `docker save`: `[{Config, RepoTags, Layers}]`. */
function archiveManifestShape(json: unknown): ArchiveEntry[] {
  return arrayAt(json, '').map((e, i) => {
    const o = objectAt(e, `${i}`);
    return {
      Config: stringAt(o.Config, `${i}.Config`),
      RepoTags: optionalStringArray(o.RepoTags, `${i}.RepoTags`),
      Layers: arrayAt(o.Layers, `${i}.Layers`).map((l, j) => stringAt(l, `${i}.Layers.${j}`)),
    };
  });
}

export interface DockerArchiveOptions {
  reference: string;
  /** `repo:tag` or `@N` picking one image of a multi-image archive. */
  select?: string;
  limits: Limits;
  platformExplicit: boolean;
}

/** `docker-archive:PATH[:repo:tag|@N]`: the output of `docker save` (legacy and OCI-flavoured) and of kaniko/ggcr tarballs. */
export class DockerArchiveSource implements ImageSource {
  constructor(private readonly archive: TarIndex, private readonly options: DockerArchiveOptions) {}

  async resolve(platform: PlatformSelector): Promise<ResolvedImage[]> {
    const { limits } = this.options;
    const path = this.archive.path;
    if (!this.archive.has('manifest.json')) {
      const hint = this.archive.has('index.json') ? 'this is an OCI layout archive: use oci-archive:PATH' : 'make one with `docker save` or `skopeo copy … docker-archive:PATH`';
      throw new ImageError(`${path} is not a docker archive (no manifest.json)`, hint);
    }
    let json: unknown;
    try {
      json = JSON.parse((await this.archive.read('manifest.json', limits.maxManifestBytes)).toString('utf8'));
    } catch (err) {
      throw new ImageError(`${path}: manifest.json is not valid JSON: ${(err as Error).message}`);
    }
    let entries: ArchiveEntry[];
    try {
      entries = archiveManifestShape(json);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      throw new ImageError(`${path}: manifest.json is not a docker archive manifest (expected a list of {Config, RepoTags, Layers}; ${err.message})`, 'the archive is corrupt or was not made by docker save');
    }
    if (entries.length === 0) throw new ImageError(`${path}: manifest.json lists no images`);

    let chosen = entries;
    const select = this.options.select;
    if (select?.startsWith('@')) {
      const n = Number(select.slice(1));
      if (!Number.isInteger(n) || n < 0 || n >= entries.length) throw new ImageError(`${path} has no image ${select} (it holds ${entries.length})`);
      chosen = [entries[n]!];
    } else if (select) {
      const wanted = [select, ...(select.includes(':') ? [] : [`${select}:latest`])];
      chosen = entries.filter((e) => (e.RepoTags ?? []).some((t) => wanted.some((w) => t === w || t.endsWith(`/${w}`))));
      if (chosen.length === 0) throw new ImageError(`${path} has no image tagged ${select}`, `tags: ${entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'none'}`);
    } else if (entries.length > 1) {
      const tags = entries.map((e, i) => (e.RepoTags?.length ? e.RepoTags.join(' ') : `@${i}`)).join(', ');
      throw new ImageError(`${path} holds ${entries.length} images; say which`, `use docker-archive:${path}:REPO:TAG or docker-archive:${path}@N; images: ${tags}`);
    }

    const manifestDigests = await this.ociManifestDigests();
    const images: ResolvedImage[] = [];
    for (const entry of chosen) {
      const configBytes = await this.archive.read(entry.Config, limits.maxManifestBytes);
      const configDigest = digestOf(configBytes);
      const config = parseImageConfig(configBytes, `${path}: ${entry.Config}`, limits);
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== entry.Layers.length) {
        throw new ImageError(`${path}: config lists ${diffIds.length} layers but manifest.json lists ${entry.Layers.length}`, 'the archive is malformed');
      }
      const layerDigests = new Map<string, { digest: string; size: number; verifyDiffId: boolean; mediaType: string }>();
      const manifestLayers: ImageManifest['layers'] = [];
      for (const [i, layerPath] of entry.Layers.entries()) {
        const member = this.archive.get(layerPath);
        if (!member) throw new ImageError(`${path}: layer ${layerPath} named in manifest.json is missing from the archive`, 'the archive is incomplete');
        const blob = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(layerPath);
        const compression = detectCompression(await this.archive.head(layerPath, 8));
        const diffId = diffIds[i]!;
        // The stored bytes' digest is known when the blob is content-addressed or uncompressed; else verify the diffID.
        const digest = blob ? `${blob[1]}:${blob[2]}` : diffId;
        const verifyDiffId = !blob && compression !== 'none';
        const mediaType = compression === 'gzip' ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : compression === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.docker.image.rootfs.diff.tar';
        layerDigests.set(layerPath, { digest, size: member.size, verifyDiffId, mediaType });
        manifestLayers.push({ mediaType, digest, size: member.size });
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: MEDIA_TYPES.dockerConfig, digest: configDigest, size: configBytes.length },
        layers: manifestLayers,
      };
      const image = buildResolvedImage({
        reference: this.options.reference,
        manifestDigest: manifestDigests.get(configDigest) ?? configDigest,
        manifest,
        config,
        limits,
        // replaced below: several layers can share a digest (empty layers), so they are opened by position
        openBlob: async () => {
          throw new Error('unreachable');
        },
      });
      image.layers.forEach((layer, i) => {
        const layerPath = entry.Layers[i]!;
        const info = layerDigests.get(layerPath)!;
        layer.verifyDiffId = info.verifyDiffId;
        layer.open = () => this.openLayer(layerPath, info);
      });
      if (this.options.platformExplicit && platform !== 'all') {
        const have = image.platform;
        if (have.os !== platform.os || have.architecture !== platform.architecture) {
          throw new ImageError(`${path} holds a ${formatPlatform(have)} image, not ${formatPlatform(platform)}`, `drop --platform or pass --platform ${formatPlatform(have)}`);
        }
      }
      images.push(image);
    }
    return images;
  }

  private async openLayer(layerPath: string, info: { digest: string; size: number; verifyDiffId: boolean }): Promise<Readable> {
    const raw = this.archive.stream(layerPath);
    if (info.verifyDiffId) return raw; // the walker verifies the uncompressed bytes against the diffID
    const verifier = new VerifyingStream(info.digest, info.size, 'layer');
    raw.on('error', (err) => verifier.destroy(err));
    return raw.pipe(verifier);
  }

  /** Docker 25+ also writes an OCI index.json: map config digests to the real manifest digests it records. */
  private async ociManifestDigests(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.archive.has('index.json')) return out;
    try {
      const top = parseManifestOrIndex(await this.archive.read('index.json', this.options.limits.maxManifestBytes), 'index.json', this.options.limits);
      if (top.kind !== 'index') return out;
      for (const d of top.index.manifests) {
        const rel = `blobs/${d.digest.replace(':', '/')}`;
        if (!this.archive.has(rel)) continue;
        const m = parseManifestOrIndex(await this.archive.read(rel, this.options.limits.maxManifestBytes), rel, this.options.limits);
        if (m.kind === 'manifest') out.set(m.manifest.config.digest, d.digest);
      }
    } catch {
      // index.json is a bonus here; manifest.json is authoritative for docker archives
    }
    return out;
  }

  async close(): Promise<void> {}
}

export async function openDockerArchive(path: string, options: DockerArchiveOptions): Promise<DockerArchiveSource> {
  return new DockerArchiveSource(await TarIndex.open(path), options);
}

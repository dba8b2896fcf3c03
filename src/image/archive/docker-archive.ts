import type { Readable } from 'node:stream';
import type { LocalDigests } from './local-digests.js';
import { DigestMismatchError, ImageError } from '../errors.js';
import { digestOf, digestOfStream, parseDigest, VerifyingStream } from '../digest.js';
import { buildResolvedImage, ManifestBudget, MEDIA_TYPES, parseImageConfig, parseManifestOrIndex, type ImageManifest } from '../manifest.js';
import type { ImageSource, PlatformSelector, ResolvedImage } from '../types.js';
import { formatPlatform } from '../types.js';
import type { Limits } from '../../config/limits.js';
import { TarIndex } from './tar-index.js';
import { ShapeError, arrayAt, jsonErrorWithoutContent, objectAt, optionalStringArray, stringAt } from '../validate.js';
import { detectCompression } from '../compression.js';

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
  /** Remembers layer digests of an unchanged archive between scans; absent: every layer is hashed each time. */
  localDigests?: LocalDigests;
}

/** `docker-archive:PATH[:repo:tag|@N]`: the output of `docker save` (legacy and OCI-flavoured) and of kaniko/ggcr tarballs. */
export class DockerArchiveSource implements ImageSource {
  private readonly memberDigests = new Map<string, Promise<string>>();

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
      throw new ImageError(`${path}: manifest.json is not valid JSON${jsonErrorWithoutContent(err)}`);
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

    const configs = await Promise.all(chosen.map(async (entry) => {
      const bytes = await this.archive.read(entry.Config, limits.maxManifestBytes);
      return { bytes, digest: digestOf(bytes) };
    }));
    const manifestDigests = await this.ociManifestDigests(new Set(configs.map((c) => c.digest)));
    const images: ResolvedImage[] = [];
    for (const [n, entry] of chosen.entries()) {
      const { bytes: configBytes, digest: configDigest } = configs[n]!;
      const config = parseImageConfig(configBytes, `${path}: ${entry.Config}`, limits);
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== entry.Layers.length) {
        throw new ImageError(`${path}: config lists ${diffIds.length} layers but manifest.json lists ${entry.Layers.length}`, 'the archive is malformed');
      }
      const stored: { path: string; digest: string; size: number }[] = [];
      const manifestLayers: ImageManifest['layers'] = [];
      for (const [i, layerPath] of entry.Layers.entries()) {
        const member = this.archive.get(layerPath);
        if (!member) throw new ImageError(`${path}: layer ${layerPath} named in manifest.json is missing from the archive`, 'the archive is incomplete');
        const blob = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(layerPath);
        const compression = detectCompression(await this.archive.head(layerPath, 8));
        // A content-addressed blob is named by its digest, an uncompressed layer file's digest is its diffID; a
        // compressed layer file (kaniko, ggcr tarballs) names no digest, so its bytes are hashed here.
        const digest = blob ? `${blob[1]}:${blob[2]}` : compression === 'none' ? diffIds[i]! : await this.memberDigest(layerPath);
        const mediaType = compression === 'gzip' ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : compression === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.docker.image.rootfs.diff.tar';
        stored.push({ path: layerPath, digest, size: member.size });
        manifestLayers.push({ mediaType, digest, size: member.size });
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: MEDIA_TYPES.dockerConfig, digest: configDigest, size: configBytes.length },
        layers: manifestLayers,
      };
      // Layers are opened by position, not by digest: two layer files may claim the same one.
      const image = buildResolvedImage({
        reference: this.options.reference,
        manifestDigest: manifestDigests.get(configDigest) ?? configDigest,
        manifest,
        config,
        limits,
        openBlob: async () => {
          throw new Error('unreachable: replaced below');
        },
        verifyBlob: async () => {
          throw new Error('unreachable: replaced below');
        },
      });
      image.layers.forEach((layer, i) => {
        const member = stored[i]!;
        layer.open = async () => this.openLayer(member);
        layer.verifyStored = () => this.verifyLayer(member);
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

  private async openLayer(member: { path: string; digest: string; size: number }): Promise<Readable> {
    // A layer verified while it is walked is remembered by the archive's identity, so the next (warm) scan need not
    // hash it again.
    const stored = this.archive.get(member.path);
    const remember = stored
      ? await this.options.localDigests?.rememberOnceVerified(async () => ({ stat: await this.archive.currentStat(), offset: stored.offset, length: stored.size }), member.digest)
      : undefined;
    const raw = this.archive.stream(member.path);
    const verifier = new VerifyingStream(member.digest, member.size, 'layer', remember);
    raw.on('error', (err) => verifier.destroy(err));
    return raw.pipe(verifier);
  }

  private async verifyLayer(member: { path: string; digest: string }): Promise<void> {
    const actual = await this.memberDigest(member.path, parseDigest(member.digest).algorithm);
    if (actual !== member.digest) throw new DigestMismatchError(member.digest, actual, `layer ${member.path}`);
  }

  /** The digest of a member's bytes, hashed once per scan of this archive, and remembered while it is unchanged. */
  private memberDigest(path: string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
    const key = `${algorithm}\u0000${path}`;
    let digest = this.memberDigests.get(key);
    if (!digest) {
      const hash = () => digestOfStream(this.archive.stream(path), algorithm);
      const local = this.options.localDigests;
      const member = this.archive.get(path);
      digest = local && member
        ? local.digestOf(this.archive.stat, member.offset, member.size, algorithm, hash)
        : hash();
      this.memberDigests.set(key, digest);
    }
    return digest;
  }

  /**
   * Docker 25+ also writes an OCI index.json: map the wanted config digests to the real manifest digests it records.
   * Each manifest is read once and the reads are bounded, and reading stops once every wanted config is mapped.
   */
  private async ociManifestDigests(wanted: ReadonlySet<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!this.archive.has('index.json')) return out;
    const { limits } = this.options;
    const budget = new ManifestBudget(limits.maxManifests, `${this.archive.path}: index.json`);
    try {
      const top = parseManifestOrIndex(await this.archive.read('index.json', limits.maxManifestBytes), 'index.json', limits);
      if (top.kind !== 'index') return out;
      for (const d of top.index.manifests) {
        if (out.size === wanted.size) break;
        if (!budget.take(d.digest)) continue;
        const rel = `blobs/${d.digest.replace(':', '/')}`;
        if (!this.archive.has(rel)) continue;
        const m = parseManifestOrIndex(await this.archive.read(rel, limits.maxManifestBytes), rel, limits);
        if (m.kind === 'manifest' && wanted.has(m.manifest.config.digest)) out.set(m.manifest.config.digest, d.digest);
      }
    } catch {
      // index.json is a bonus here (manifest.json is authoritative for docker archives): an image it does not map
      // is named by its config digest, as for archives without one
    }
    return out;
  }

  async close(): Promise<void> {}
}

export async function openDockerArchive(path: string, options: DockerArchiveOptions): Promise<DockerArchiveSource> {
  return new DockerArchiveSource(await TarIndex.open(path), options);
}

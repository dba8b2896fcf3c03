import { promises as fs, type BigIntStats } from 'node:fs';
import type { LocalDigests } from './local-digests.js';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DigestMismatchError, ImageError } from '../errors.js';
import { digestOfStream, parseDigest, VerifyingStream, verifyBuffer } from '../digest.js';
import { buildResolvedImage, ManifestBudget, MEDIA_TYPES, parseImageConfig, parseManifestOrIndex, selectFromIndex, type ImageIndex } from '../manifest.js';
import type { Descriptor, ImageSource, PlatformSelector, ResolvedImage } from '../types.js';
import type { Limits } from '../../config/limits.js';
import { TarIndex } from './tar-index.js';
import { openRegularFileBeneath, readHead } from '../../util/regular-file.js';

/** Files of an OCI image layout, wherever they are: a directory (`oci:`) or a tar of one (`oci-archive:`). */
export interface LayoutFiles {
  describe: string;
  read(relPath: string, maxBytes: number): Promise<Buffer>;
  stream(relPath: string): Promise<Readable>;
  /**
   * Where the file's bytes are, to remember their digest by (`LocalDigests`): the identity of the file holding them
   * and their range in it. Throws like `read` when the file is not there as a regular file.
   */
  locate(relPath: string): Promise<{ stat: BigIntStats; offset: number; length: number }>;
  /** True when the layout has an entry by that name (read and stream still refuse one that is not a regular file). */
  exists(relPath: string): Promise<boolean>;
}

/**
 * The files of a layout directory, opened as a hostile layout demands: no symlink followed anywhere under the
 * directory, regular files only (a device or FIFO is refused, never read or waited on), reads bounded.
 */
export function directoryLayout(dir: string): LayoutFiles {
  const open = async (rel: string) => {
    const opened = await openRegularFileBeneath(dir, rel);
    if (opened) return opened;
    const st = await fs.lstat(join(dir, rel)).catch(() => null);
    if (!st) throw new ImageError(`${join(dir, rel)} does not exist`, 'the layout is incomplete');
    const kind = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : 'not a regular file';
    throw new ImageError(`${join(dir, rel)} is ${kind}; refused`, 'an OCI layout holds regular files only; links, devices and FIFOs in one are never followed or read');
  };
  return {
    describe: dir,
    async read(rel, max) {
      const { handle, size } = await open(rel);
      try {
        if (size > max) throw new ImageError(`${join(dir, rel)} is ${size} bytes, over the ${max}-byte limit`);
        return await readHead(handle, size);
      } finally {
        await handle.close();
      }
    },
    async stream(rel) {
      const { handle } = await open(rel);
      return handle.createReadStream({ highWaterMark: 1024 * 1024 });
    },
    async locate(rel) {
      const { handle, size } = await open(rel);
      try {
        return { stat: await handle.stat({ bigint: true }), offset: 0, length: size };
      } finally {
        await handle.close();
      }
    },
    async exists(rel) {
      // an entry of any kind: reading it is what refuses a link or a device, with a message that says so
      return (await fs.lstat(join(dir, rel)).catch(() => null)) !== null;
    },
  };
}

export function archiveLayout(index: TarIndex): LayoutFiles {
  return {
    describe: index.path,
    async locate(rel) {
      const member = index.get(rel);
      if (!member) throw new ImageError(`archive ${index.path} has no ${rel}`);
      // the archive as it is now (not as indexed), so that a file replaced since reads as another one
      return { stat: await index.currentStat(), offset: member.offset, length: member.size };
    },
    read: (rel, max) => index.read(rel, max),
    stream: async (rel) => index.stream(rel),
    exists: async (rel) => index.has(rel),
  };
}

function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface OciLayoutOptions {
  reference: string;
  /** Tag (`org.opencontainers.image.ref.name`) to pick from index.json; all images when absent. */
  tag?: string;
  limits: Limits;
  /** When false, an index with a single image is used whatever its platform. */
  platformExplicit: boolean;
  /** Remembers blob digests of unchanged files between scans; absent: every blob is hashed each time. */
  localDigests?: LocalDigests;
}

/** `oci:DIR[:TAG]` and `oci-archive:PATH[:TAG]`. */
export class OciLayoutSource implements ImageSource {
  constructor(private readonly files: LayoutFiles, private readonly options: OciLayoutOptions) {}

  private async readBlob(d: Descriptor, what: string): Promise<Buffer> {
    const path = blobPath(d.digest);
    if (!(await this.files.exists(path))) throw new ImageError(`${this.files.describe} is missing ${what} ${d.digest}`, 'the layout is incomplete');
    const data = await this.files.read(path, this.options.limits.maxManifestBytes);
    verifyBuffer(data, d.digest, what);
    return data;
  }

  private async openBlob(d: Descriptor): Promise<Readable> {
    const path = blobPath(d.digest);
    if (!(await this.files.exists(path))) throw new ImageError(`${this.files.describe} is missing blob ${d.digest}`, 'the layout is incomplete');
    // A blob verified while it is walked is remembered, so the next (warm) scan need not hash it again.
    const remember = await this.options.localDigests?.rememberOnceVerified(() => this.files.locate(path), d.digest);
    const raw = await this.files.stream(path);
    const verifier = new VerifyingStream(d.digest, d.size, 'layer', remember);
    raw.on('error', (err) => verifier.destroy(err));
    return raw.pipe(verifier);
  }

  /**
   * Hashes the stored file: a layout names its blobs by digest, but nothing but hashing them says they are. The
   * digest of an unchanged file is remembered (`LocalDigests`), so a warm scan does not hash it again.
   */
  private async verifyBlob(d: Descriptor): Promise<void> {
    const path = blobPath(d.digest);
    const { algorithm } = parseDigest(d.digest);
    const hash = async () => digestOfStream(await this.files.stream(path), algorithm);
    const where = this.options.localDigests ? await this.files.locate(path) : undefined;
    const actual = where ? await this.options.localDigests!.digestOf(where.stat, where.offset, where.length, algorithm, hash) : await hash();
    if (actual !== d.digest) throw new DigestMismatchError(d.digest, actual, 'layer');
  }

  async resolve(platform: PlatformSelector): Promise<ResolvedImage[]> {
    const { limits } = this.options;
    if (!(await this.files.exists('index.json'))) {
      throw new ImageError(`${this.files.describe} is not an OCI image layout (no index.json)`, 'for `docker save` output use docker-archive:PATH');
    }
    const top = parseManifestOrIndex(await this.files.read('index.json', limits.maxManifestBytes), `${this.files.describe} index.json`, limits);
    if (top.kind !== 'index') throw new ImageError(`${this.files.describe} index.json is not an index`);
    let candidates = top.index.manifests;
    if (this.options.tag) {
      const tag = this.options.tag;
      candidates = candidates.filter((d) => {
        const name = d.annotations?.[REF_NAME];
        return name === tag || name?.endsWith(`:${tag}`);
      });
      if (candidates.length === 0) {
        const tags = top.index.manifests.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
        throw new ImageError(`${this.files.describe} has no image tagged "${tag}"`, `tags in this layout: ${tags.join(', ') || 'none'}`);
      }
    }
    // Expand nested indexes (e.g. a multi-platform image copied with `skopeo copy --all`), each digest once.
    const budget = new ManifestBudget(limits.maxManifests, this.files.describe);
    const expanded: { descriptor: Descriptor; indexDigest?: string }[] = [];
    const expand = async (ds: Descriptor[], indexDigest: string | undefined, depth: number): Promise<void> => {
      for (const d of ds) {
        if (!budget.take(d.digest)) continue;
        const isIndex = d.mediaType === MEDIA_TYPES.ociIndex || d.mediaType === MEDIA_TYPES.dockerList;
        if (isIndex) {
          if (depth > 4) throw new ImageError(`${this.files.describe} nests indexes too deeply`);
          const nested = parseManifestOrIndex(await this.readBlob(d, 'index'), `index ${d.digest}`, limits);
          if (nested.kind !== 'index') throw new ImageError(`${d.digest} is declared an index but is a manifest`);
          await expand(nested.index.manifests, d.digest, depth + 1);
        } else {
          expanded.push({ descriptor: d, indexDigest });
        }
      }
    };
    await expand(candidates, undefined, 0);
    if (expanded.length === 0) {
      const hint = (await this.files.exists('manifest.json')) ? 'it also has a manifest.json: scan it as docker-archive:PATH' : undefined;
      throw new ImageError(`${this.files.describe} lists no images in index.json`, hint);
    }

    const pseudoIndex: ImageIndex = { schemaVersion: 2, manifests: expanded.map((e) => e.descriptor) } as ImageIndex;
    let selected: Descriptor[];
    if (!this.options.platformExplicit && expanded.length === 1) selected = [expanded[0]!.descriptor];
    else selected = selectFromIndex(pseudoIndex, platform, this.files.describe);

    const images: ResolvedImage[] = [];
    for (const d of selected) {
      const parsed = parseManifestOrIndex(await this.readBlob(d, 'manifest'), `manifest ${d.digest}`, limits);
      if (parsed.kind !== 'manifest') throw new ImageError(`${d.digest} is not an image manifest`);
      const config = parseImageConfig(await this.readBlob(parsed.manifest.config, 'config'), `config ${parsed.manifest.config.digest}`, limits);
      images.push(
        buildResolvedImage({
          reference: this.options.reference,
          manifestDigest: d.digest,
          indexDigest: expanded.find((e) => e.descriptor === d)?.indexDigest,
          manifest: parsed.manifest,
          config,
          limits,
          openBlob: (blob) => this.openBlob(blob),
          verifyBlob: (blob) => this.verifyBlob(blob),
        }),
      );
    }
    return images;
  }

  async close(): Promise<void> {}
}

export async function openOciArchive(path: string, options: OciLayoutOptions): Promise<OciLayoutSource> {
  return new OciLayoutSource(archiveLayout(await TarIndex.open(path)), options);
}

export async function openOciDirectory(dir: string, options: OciLayoutOptions): Promise<OciLayoutSource> {
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new ImageError(`oci:${dir} is not a directory`, 'oci: takes an OCI image layout directory; for a tar of one use oci-archive:');
  return new OciLayoutSource(directoryLayout(dir), options);
}

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';
import type { FileHeader } from '../analyze/analyzer.js';
import type { Limits } from '../config/limits.js';
import { DigestMismatchError, ImageError, LayerReadError } from '../image/errors.js';
import { parseDigest } from '../image/digest.js';
import type { ScanNotice } from '../report/model.js';
import { decompressLayer } from './decompress.js';
import { normaliseLayerPath, OPAQUE_MARKER, WHITEOUT_PREFIX } from './paths.js';

/** What the walker tells whoever consumes a layer. */
export interface LayerVisitor {
  /** Every entry (files, dirs, links …). Return true to be handed the file's content. */
  entry(header: FileHeader): boolean;
  content(header: FileHeader, content: Buffer): Promise<void>;
  /**
   * Optional streaming alternative to `content`, for consumers that write files out (rootfs extraction): when
   * present, every entry `entry()` wanted, of any type, is handed here with its body as a stream (empty for
   * non-files), `content` is not called and the in-memory size limit does not apply. The visitor reads the body
   * to its end or not at all (the walker drains what is left; breaking out of the iteration would end the tar).
   */
  stream?(header: FileHeader, body: AsyncIterable<Buffer>): Promise<void>;
  /** May return a promise: the walker waits for it before reading the next entry. */
  whiteout(path: string): void | Promise<void>;
  opaqueDir(dir: string): void | Promise<void>;
  notice(notice: Omit<ScanNotice, 'layer'>): void;
}

export interface WalkOptions {
  limits: Limits;
  /** Size of the blob as stored, for the compression-ratio check. */
  compressedSize: number;
  /** When set, the uncompressed stream must hash to this diffID (layers whose stored digest is unknown). */
  verifyDiffId?: string;
  /** Called with the uncompressed bytes read so far, for progress. */
  onProgress?: (uncompressedBytes: number) => void;
}

export interface WalkResult {
  tarBytes: number;
  entries: number;
  compression: string;
}

/** A decompression bomb or absurd layer stops here: counts expanded bytes, checks the ratio, hashes if asked. */
class ExpansionGuard extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;

  constructor(private readonly options: WalkOptions) {
    super();
    this.hash = options.verifyDiffId ? createHash(parseDigest(options.verifyDiffId).algorithm) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    const { limits, compressedSize } = this.options;
    if (this.bytes > limits.maxLayerExpandedBytes) {
      cb(new LayerReadError(`layer expands past ${limits.maxLayerExpandedBytes} bytes`, 'a decompression bomb, or raise the limit for a genuinely huge image'));
      return;
    }
    if (this.bytes > limits.ratioCheckAfterBytes && compressedSize > 0 && this.bytes / compressedSize > limits.maxCompressionRatio) {
      cb(new LayerReadError(`layer expands more than ${limits.maxCompressionRatio}x its compressed size (${compressedSize} bytes)`, 'a decompression bomb'));
      return;
    }
    this.hash?.update(chunk);
    this.options.onProgress?.(this.bytes);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hash && this.options.verifyDiffId) {
      const actual = `${parseDigest(this.options.verifyDiffId).algorithm}:${this.hash.digest('hex')}`;
      if (actual !== this.options.verifyDiffId) {
        cb(new DigestMismatchError(this.options.verifyDiffId, actual, 'layer diffID'));
        return;
      }
    }
    cb();
  }
}

function entryType(type: Header['type']): FileHeader['type'] {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

async function readAll(stream: AsyncIterable<unknown>, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let offset = 0;
  for await (const item of stream) {
    const chunk = item as Buffer;
    if (offset + chunk.length > size) throw new LayerReadError('tar entry is longer than its header says');
    chunk.copy(buf, offset);
    offset += chunk.length;
  }
  return offset === size ? buf : buf.subarray(0, offset);
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) {
    // discard
  }
}

/**
 * Streams one layer blob: decompresses, parses the tar, normalises every path, turns whiteouts into deletions, and
 * hands each wanted file's content to the visitor. Nothing is written to disk. Throws `ImageError` for a layer that
 * cannot be read (bad compression, bomb, digest mismatch, truncation); path tricks become notices.
 */
export async function walkLayer(blob: Readable, options: WalkOptions, visitor: LayerVisitor): Promise<WalkResult> {
  const { limits } = options;
  const { tar, compression } = await decompressLayer(blob);
  const guard = new ExpansionGuard(options);
  tar.on('error', (err) => guard.destroy(err));
  // allowUnknownFormat: old and odd tar writers leave the ustar magic out (not in @types, but tar-stream reads it)
  const extract = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  guard.on('error', (err) => extract.destroy(err));
  tar.pipe(guard).pipe(extract);

  let entries = 0;
  let traversalNotices = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      entries++;
      if (entries > limits.maxLayerEntries) throw new LayerReadError(`layer has more than ${limits.maxLayerEntries} entries`, 'a hostile layer, or raise the limit');
      const rawName = h.name;
      const path = rawName.length > limits.maxPathLength ? null : normaliseLayerPath(rawName);
      if (path === null) {
        if (traversalNotices++ < 20) {
          visitor.notice({ level: 'warning', message: `layer entry with an unsafe name was ignored: ${JSON.stringify(rawName.slice(0, 200))}` });
        }
        await drain(entry);
        continue;
      }
      if (path === '') {
        await drain(entry); // the root directory itself
        continue;
      }
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      const dir = slash < 0 ? '' : path.slice(0, slash);
      if (base.startsWith(WHITEOUT_PREFIX)) {
        if (base === OPAQUE_MARKER) await visitor.opaqueDir(dir);
        else if (!base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
          const target = base.slice(WHITEOUT_PREFIX.length);
          if (target) await visitor.whiteout(dir ? `${dir}/${target}` : target);
        }
        await drain(entry);
        continue;
      }
      const type = entryType(h.type);
      let linkname: string | undefined;
      if (type === 'hardlink') {
        const target = normaliseLayerPath(h.linkname ?? '');
        if (target === null || target === '') {
          visitor.notice({ level: 'warning', message: `hardlink ${path} points outside the image (${JSON.stringify((h.linkname ?? '').slice(0, 200))}); ignored`, path });
          await drain(entry);
          continue;
        }
        linkname = target;
      } else if (type === 'symlink') {
        linkname = h.linkname ?? '';
      }
      const header: FileHeader = {
        path,
        type,
        size: type === 'file' ? (h.size ?? 0) : 0,
        mode: h.mode ?? 0,
        ...(h.uid !== undefined ? { uid: h.uid } : {}),
        ...(h.gid !== undefined ? { gid: h.gid } : {}),
        ...(linkname !== undefined ? { linkname } : {}),
      };
      const wanted = visitor.entry(header);
      if (wanted && visitor.stream) {
        await visitor.stream(header, entry as AsyncIterable<Buffer>);
        await drain(entry);
      } else if (wanted && type === 'file') {
        if (header.size > limits.maxAnalyzedFileBytes) {
          visitor.notice({ level: 'warning', message: `file is ${header.size} bytes, over the ${limits.maxAnalyzedFileBytes}-byte analysis limit; not analysed`, path });
          await drain(entry);
          continue;
        }
        const content = await readAll(entry, header.size);
        await visitor.content(header, content);
      } else {
        await drain(entry);
      }
    }
  } catch (err) {
    blob.destroy();
    tar.destroy();
    if (err instanceof ImageError) throw err;
    throw new LayerReadError(`layer is not a readable tar stream: ${(err as Error).message}`, 'the layer is corrupt or truncated');
  }
  return { tarBytes: guard.bytes, entries, compression };
}

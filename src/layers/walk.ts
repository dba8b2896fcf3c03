import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';
import type { FileHeader } from '../model/index.js';
import type { Limits } from '../config/limits.js';
import { DigestMismatchError, ImageError, IntegrityError, LayerReadError } from '../image/errors.js';
import { parseDigest } from '../image/digest.js';
import type { ScanNotice } from '../model/index.js';
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
  /**
   * The diffID the image config claims for the layer: the uncompressed stream is hashed as it is read, and a layer
   * whose content hashes to anything else is refused (a DigestMismatchError), as Docker refuses it.
   */
  expectedDiffId: string;
  /** What every layer of the image may expand to in all; absent: only the per-layer limits apply. */
  imageBudget?: ExpansionBudget;
  /** Called with the uncompressed bytes read so far, for progress. */
  onProgress?: (uncompressedBytes: number) => void;
}

export interface WalkResult {
  tarBytes: number;
  entries: number;
  compression: string;
  /** The layer's diffID as hashed from its content (equal to the expected one: the walk refuses any other). */
  diffId: string;
}

/**
 * What the layers of one image may expand to together, so that many layers each just under the per-layer limits
 * (or one layer listed many times) cannot cost unbounded decompression: the per-layer size and ratio limits,
 * applied to the image's totals.
 */
export class ExpansionBudget {
  private earlierExpanded = 0;
  private earlierCompressed = 0;
  private currentExpanded = 0;
  private currentCompressed = 0;

  constructor(private readonly limits: Pick<Limits, 'maxImageExpandedBytes' | 'maxCompressionRatio' | 'ratioCheckAfterBytes'>) {}

  /** A layer of `compressedSize` stored bytes starts. */
  startLayer(compressedSize: number): void {
    this.earlierExpanded += this.currentExpanded;
    this.earlierCompressed += this.currentCompressed;
    this.currentExpanded = 0;
    this.currentCompressed = compressedSize;
    this.check();
  }

  charge(bytes: number): void {
    this.currentExpanded += bytes;
    this.check();
  }

  /**
   * The current layer was stopped (by its own limit or this budget) and recorded as unreadable: what it cost is
   * bounded and said, so it does not count against the layers after it.
   */
  abandonLayer(): void {
    this.currentExpanded = 0;
    this.currentCompressed = 0;
  }

  private check(): void {
    const { maxImageExpandedBytes, maxCompressionRatio, ratioCheckAfterBytes } = this.limits;
    const expanded = this.earlierExpanded + this.currentExpanded;
    const compressed = this.earlierCompressed + this.currentCompressed;
    if (expanded > maxImageExpandedBytes) {
      throw new LayerReadError(`the image's layers expand past ${maxImageExpandedBytes} bytes in all`, 'a decompression bomb spread over layers, or raise the limit for a genuinely huge image');
    }
    // While the current layer outweighs the earlier ones, its own ratio check is the one that speaks.
    if (this.currentExpanded > this.earlierExpanded) return;
    if (expanded > ratioCheckAfterBytes && compressed > 0 && expanded / compressed > maxCompressionRatio) {
      throw new LayerReadError(`the image's layers expand more than ${maxCompressionRatio}x their compressed size in all`, 'a decompression bomb spread over layers');
    }
  }
}

/**
 * A decompression bomb or absurd layer stops here: counts expanded bytes, checks the ratio and the image's budget,
 * and hashes the tar stream (the diffID).
 */
class ExpansionGuard extends Transform {
  bytes = 0;
  private readonly hash: Hash;
  diffId: string | undefined;

  constructor(private readonly options: WalkOptions) {
    super();
    this.hash = createHash(parseDigest(options.expectedDiffId).algorithm);
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
    try {
      this.options.imageBudget?.charge(chunk.length);
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.hash.update(chunk);
    this.options.onProgress?.(this.bytes);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const expected = this.options.expectedDiffId;
    this.diffId = `${parseDigest(expected).algorithm}:${this.hash.digest('hex')}`;
    if (this.diffId !== expected) {
      cb(new DigestMismatchError(expected, this.diffId, 'layer diffID'));
      return;
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

/**
 * A file's content: the walker's own chunk when the file arrived in one (most files do: no copy, and no fresh
 * memory to fault in), else the chunks joined into one buffer of the size the header gives.
 */
async function readAll(stream: AsyncIterable<unknown>, size: number): Promise<Buffer> {
  let first: Buffer | undefined;
  let buf: Buffer | undefined;
  let offset = 0;
  for await (const item of stream) {
    const chunk = item as Buffer;
    if (offset + chunk.length > size) throw new LayerReadError('tar entry is longer than its header says');
    if (first === undefined && buf === undefined) {
      first = chunk;
    } else {
      if (buf === undefined) {
        buf = Buffer.allocUnsafe(size);
        first!.copy(buf, 0);
        first = undefined;
      }
      chunk.copy(buf, offset);
    }
    offset += chunk.length;
  }
  if (buf === undefined) return first ?? Buffer.alloc(0);
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
  let tar: Readable | undefined;
  try {
    options.imageBudget?.startLayer(options.compressedSize);
    const decompressed = await decompressLayer(blob);
    tar = decompressed.tar;
    return await walkTar(tar, decompressed.compression, options, visitor);
  } catch (err) {
    options.imageBudget?.abandonLayer();
    tar?.destroy();
    // Bytes that are not the blob the image names are refused whatever else went wrong while reading them: a tampered
    // layer must never be reported on as a merely unreadable one.
    const integrity = err instanceof IntegrityError ? err : await integrityErrorOf(blob);
    blob.destroy();
    if (integrity) throw integrity;
    if (err instanceof ImageError) throw err;
    throw new LayerReadError(`layer is not a readable tar stream: ${(err as Error).message}`, 'the layer is corrupt or truncated');
  }
}

async function walkTar(tar: Readable, compression: string, options: WalkOptions, visitor: LayerVisitor): Promise<WalkResult> {
  const { limits } = options;
  const guard = new ExpansionGuard(options);
  tar.on('error', (err) => guard.destroy(err));
  // allowUnknownFormat: old and odd tar writers leave the ustar magic out (not in @types, but tar-stream reads it)
  const extract = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  guard.on('error', (err) => extract.destroy(err));
  tar.pipe(guard).pipe(extract);

  let entries = 0;
  let traversalNotices = 0;
  // tar-stream reads its input to the end (zero blocks after the end marker included), so when this loop is done
  // the guard has hashed the whole tar stream and checked the diffID
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
  return { tarBytes: guard.bytes, entries, compression, diffId: guard.diffId! };
}

/**
 * After a walk that failed part-way: reads the rest of the stored blob (its size is bounded by the descriptor) so
 * that its digest check runs, and resolves to the IntegrityError that check raised, if any.
 */
function integrityErrorOf(blob: Readable): Promise<IntegrityError | undefined> {
  if (blob.errored) return Promise.resolve(blob.errored instanceof IntegrityError ? blob.errored : undefined);
  if (blob.readableEnded || blob.destroyed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    blob.unpipe();
    blob.on('error', (err) => resolve(err instanceof IntegrityError ? err : undefined));
    blob.on('end', () => resolve(undefined));
    blob.on('close', () => resolve(undefined));
    blob.resume();
  });
}

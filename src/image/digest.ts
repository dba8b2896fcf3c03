import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, ImageError, IntegrityError } from './errors.js';

const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;

export function parseDigest(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new ImageError(`invalid digest "${digest}"`, 'digests look like sha256:<64 hex characters>');
  const algorithm = m[1] as 'sha256' | 'sha512';
  const hex = m[2]!;
  if (hex.length !== (algorithm === 'sha256' ? 64 : 128)) throw new ImageError(`invalid digest "${digest}": wrong length`);
  return { algorithm, hex };
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws unless `data` hashes to `digest`. */
export function verifyBuffer(data: Buffer, digest: string, what = 'blob'): void {
  const { algorithm } = parseDigest(digest);
  const actual = digestOf(data, algorithm);
  if (actual !== digest) throw new DigestMismatchError(digest, actual, what);
}

/**
 * Passes bytes through while hashing them; at the end, errors if the digest differs or the size is not the
 * declared one. Also errors as soon as more than `expectedSize` bytes arrive, so a lying source cannot stream forever.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private bytes = 0;

  constructor(
    private readonly expectedDigest: string,
    private readonly expectedSize: number | undefined,
    private readonly what = 'blob',
    /** Called once the bytes are verified, before the stream ends (a failure of this callback is ignored). */
    private readonly onVerified?: () => Promise<void>,
  ) {
    super();
    this.hash = createHash(parseDigest(expectedDigest).algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      cb(new IntegrityError(`${this.what} ${this.expectedDigest} is larger than its declared size ${this.expectedSize}`, 'the source is corrupt or hostile'));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      cb(new IntegrityError(`${this.what} ${this.expectedDigest} is truncated: ${this.bytes} of ${this.expectedSize} bytes`, 'the download or archive was cut short; retry, or re-create the archive'));
      return;
    }
    const actual = `${parseDigest(this.expectedDigest).algorithm}:${this.hash.digest('hex')}`;
    if (actual !== this.expectedDigest) {
      cb(new DigestMismatchError(this.expectedDigest, actual, this.what));
      return;
    }
    if (!this.onVerified) {
      cb();
      return;
    }
    this.onVerified().then(
      () => cb(),
      () => cb(),
    );
  }

  get bytesSeen(): number {
    return this.bytes;
  }
}

/** The digest of everything `stream` yields. */
export async function digestOfStream(stream: AsyncIterable<Buffer>, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk);
  return `${algorithm}:${hash.digest('hex')}`;
}

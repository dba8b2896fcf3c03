import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';
import { PassThrough, Transform, type TransformCallback, type Readable } from 'node:stream';
import type { Decompress as FzstdDecompressType } from 'fzstd';
import { detectCompression, type Compression } from './compression.js';
import { LayerReadError } from '../image/errors.js';

const require = createRequire(import.meta.url);

/** zstd: the native binding when it loads, else the pure-JS fzstd (slower, same result). */
function zstdStream(): Transform {
  try {
    const { DecompressStream } = require('zstd-napi') as { DecompressStream: new () => Transform };
    return new DecompressStream();
  } catch {
    const { Decompress } = require('fzstd') as { Decompress: typeof FzstdDecompressType };
    return new FzstdTransform(Decompress);
  }
}

class FzstdTransform extends Transform {
  private readonly inflater: FzstdDecompressType;
  constructor(Decompress: typeof FzstdDecompressType) {
    super();
    this.inflater = new Decompress((chunk) => this.push(Buffer.from(chunk)));
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.inflater.push(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.inflater.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

/** Waits for the first bytes of a stream and puts them back, so the compression can be sniffed. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= n) finish();
    };
    const finish = () => {
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('error', onError);
      stream.pause();
      const head = Buffer.concat(chunks);
      if (head.length > 0) stream.unshift(head);
      resolve(head);
    };
    const onError = (err: Error) => {
      stream.off('data', onData);
      stream.off('end', finish);
      reject(err);
    };
    stream.on('data', onData);
    stream.once('end', finish);
    stream.once('error', onError);
  });
}

/** Opens the uncompressed tar stream of a layer blob, whatever its compression (gzip, zstd, none). */
export async function decompressLayer(blob: Readable): Promise<{ tar: Readable; compression: Compression }> {
  const head = await peek(blob, 8);
  const compression = detectCompression(head);
  let decoder: Transform;
  switch (compression) {
    case 'gzip':
      // large output chunks: far fewer hand-offs between zlib's thread and the main thread (measured: ~25% faster)
      decoder = createGunzip({ chunkSize: 256 * 1024 });
      break;
    case 'zstd':
      decoder = zstdStream();
      break;
    case 'none':
      decoder = new PassThrough();
      break;
    default:
      blob.destroy();
      throw new LayerReadError(`layer is ${compression}-compressed, which OCI images do not use`, 'only gzip, zstd and uncompressed layers are supported');
  }
  blob.on('error', (err) => decoder.destroy(err));
  return { tar: blob.pipe(decoder), compression };
}

import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { parseDigest, VerifyingStream } from './digest.js';

/** Detonate's cache root: `$DETONATE_CACHE_DIR`, else `$XDG_CACHE_HOME/detonate`, else `~/.cache/detonate`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DETONATE_CACHE_DIR) return env.DETONATE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'detonate');
}

/**
 * Content-addressed blob store: `blobs/sha256/<hex>`. A blob is written to a temporary file while its digest is
 * checked, and renamed into place only when it matches, so the cache never holds a wrong or partial blob.
 */
export class BlobCache {
  readonly dir: string;

  constructor(root: string = cacheRoot()) {
    this.dir = join(root, 'blobs');
  }

  pathOf(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, algorithm, hex);
  }

  async has(digest: string): Promise<boolean> {
    try {
      await fs.access(this.pathOf(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Opens a cached blob, or returns null when it is not cached. */
  async open(digest: string): Promise<Readable | null> {
    const path = this.pathOf(digest);
    try {
      const handle = await fs.open(path, 'r');
      return handle.createReadStream();
    } catch {
      return null;
    }
  }

  /** Streams `source` into the cache, verifying digest and size; on any error nothing is left behind. */
  async store(digest: string, size: number | undefined, source: Readable): Promise<string> {
    const path = this.pathOf(digest);
    const dir = join(path, '..');
    await fs.mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await pipeline(source, new VerifyingStream(digest, size), createWriteStream(tmp, { flags: 'wx' }));
      await fs.rename(tmp, path);
      return path;
    } catch (err) {
      source.destroy();
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  /** Returns the cached blob, fetching and storing it first when missing. */
  async openOrFetch(digest: string, size: number | undefined, fetch: () => Promise<Readable>): Promise<Readable> {
    const cached = await this.open(digest);
    if (cached) return cached;
    await this.store(digest, size, await fetch());
    return createReadStream(this.pathOf(digest));
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { parseDigest } from '../digest.js';

/**
 * Digests of byte ranges of local files (a layer inside an archive, a blob of a layout), remembered by the file's
 * identity: device, inode, size, and modification and change times in nanoseconds. Any change to the file moves
 * its ctime, which no one can set back, so a remembered digest only ever answers for the very bytes it was computed
 * from, and a warm scan of an unchanged archive need not hash it again. On disk: `<cache>/local-digests/<key>`.
 */
export class LocalDigests {
  constructor(private readonly dir: string) {}

  private pathOf(identity: string): string {
    const key = createHash('sha256').update(identity).digest('hex');
    return join(this.dir, key.slice(0, 2), key);
  }

  /** The digest of `length` bytes at `offset` of the file whose `stat` is given, computed by `hash` when not known. */
  async digestOf(stat: BigIntStats, offset: number, length: number, algorithm: 'sha256' | 'sha512', hash: () => Promise<string>): Promise<string> {
    const path = this.pathOf(identityOf(stat, offset, length, algorithm));
    const known = await fs.readFile(path, 'utf8').catch(() => undefined);
    if (known !== undefined) {
      try {
        if (parseDigest(known).algorithm === algorithm) return known;
      } catch {
        // unreadable entry: computed again below
      }
    }
    const digest = await hash();
    await this.write(path, digest);
    return digest;
  }

  /**
   * For bytes about to be read for another purpose (a layer's walk) and checked against `digest` as they are: the
   * step to run once they are verified (a `VerifyingStream`'s `onVerified`), which remembers the digest so that the
   * next scan of the unchanged file need not hash them again. `locate` gives where the bytes are, with the file's
   * current identity; it is asked before the read and after it, and a file changed or replaced meanwhile is not
   * remembered. Undefined when the bytes cannot be located now. The step never throws (the cache is an optimisation).
   */
  async rememberOnceVerified(locate: () => Promise<StoredRange>, digest: string): Promise<(() => Promise<void>) | undefined> {
    const before = await locate().catch(() => undefined);
    if (!before) return undefined;
    const algorithm = parseDigest(digest).algorithm;
    const identity = identityOf(before.stat, before.offset, before.length, algorithm);
    return async () => {
      const after = await locate().catch(() => undefined);
      if (!after || identityOf(after.stat, after.offset, after.length, algorithm) !== identity) return;
      await this.write(this.pathOf(identity), digest).catch(() => {});
    };
  }

  private async write(path: string, digest: string): Promise<void> {
    await fs.mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, digest);
    await fs.rename(tmp, path);
  }
}

/** Where some bytes are stored: a range of the file whose identity `stat` gives. */
export interface StoredRange {
  stat: BigIntStats;
  offset: number;
  length: number;
}

function identityOf(stat: BigIntStats, offset: number, length: number, algorithm: string): string {
  return [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, offset, length, algorithm].join('\u0000');
}

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
    const identity = [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, offset, length, algorithm].join('\u0000');
    const path = this.pathOf(identity);
    const known = await fs.readFile(path, 'utf8').catch(() => undefined);
    if (known !== undefined) {
      try {
        if (parseDigest(known).algorithm === algorithm) return known;
      } catch {
        // unreadable entry: computed again below
      }
    }
    const digest = await hash();
    await fs.mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, digest);
    await fs.rename(tmp, path);
    return digest;
  }
}

import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseDigest } from '../image/digest.js';
import { DigestMismatchError } from '../image/errors.js';
import type { Layer } from '../image/types.js';

/**
 * Which diffID each stored layer blob really has, as a walk of the blob established it: the stored bytes verified
 * against their digest and the uncompressed stream hashed. An image config's diffIDs are claims; a cache keyed by
 * diffID may only be consulted for a layer whose claim this record confirms, for bytes verified in this scan.
 * On disk: `layer-ids/<algorithm>/<hex of the stored digest>` holding the diffID.
 */
export class LayerIdentities {
  readonly dir: string;
  /** Per layer, the answer of `confirms` (a scan asks once for the image summary and again per layer). */
  private readonly confirmed = new WeakMap<Layer, Promise<boolean>>();

  constructor(cacheRoot: string) {
    this.dir = join(cacheRoot, 'layer-ids');
  }

  private pathOf(storedDigest: string): string {
    const { algorithm, hex } = parseDigest(storedDigest);
    return join(this.dir, algorithm, hex.slice(0, 2), hex);
  }

  /** The diffID a walk found for the blob `storedDigest`, if one did. */
  async diffIdOf(storedDigest: string): Promise<string | undefined> {
    try {
      const text = (await fs.readFile(this.pathOf(storedDigest), 'utf8')).trim();
      parseDigest(text);
      return text;
    } catch {
      return undefined;
    }
  }

  /** Records what a complete walk verified: the blob `storedDigest` decompresses to the tar `diffId`. */
  async record(storedDigest: string, diffId: string): Promise<void> {
    const path = this.pathOf(storedDigest);
    await fs.mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, diffId);
    await fs.rename(tmp, path);
  }

  /**
   * Whether results cached under `layer.diffId` may stand for this layer: true when a walk established that the
   * blob has that diffID and the stored bytes are that blob now; false when nothing is known of the blob (it must be
   * walked). A blob known to have another diffID than the config claims is refused, as Docker refuses it.
   */
  confirms(layer: Layer): Promise<boolean> {
    let answer = this.confirmed.get(layer);
    if (!answer) this.confirmed.set(layer, (answer = this.check(layer)));
    return answer;
  }

  private async check(layer: Layer): Promise<boolean> {
    const known = await this.diffIdOf(layer.digest);
    if (known === undefined) return false;
    if (known !== layer.diffId) throw new DigestMismatchError(layer.diffId, known, `layer ${layer.index} (${layer.digest}) diffID`);
    await layer.verifyStored();
    return true;
  }
}

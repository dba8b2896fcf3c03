import { promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseDigest } from '../image/digest.js';
import { LAYER_RESULT_FORMAT, type LayerResult } from './runner.js';

/**
 * Per-layer analysis results on disk, keyed by (layer diffID, analyzer versions): a layer seen once is never
 * analysed again, whichever image it appears in. Written atomically; unreadable entries count as misses.
 */
export class LayerResultCache {
  readonly dir: string;

  constructor(cacheRoot: string) {
    this.dir = join(cacheRoot, 'layers');
  }

  private pathOf(diffId: string, analyzerKey: string): string {
    const { algorithm, hex } = parseDigest(diffId);
    const keyHash = createHash('sha256').update(`${LAYER_RESULT_FORMAT}\n${analyzerKey}`).digest('hex').slice(0, 16);
    return join(this.dir, algorithm, hex.slice(0, 2), `${hex}-${keyHash}.json`);
  }

  async get(diffId: string, analyzerKey: string): Promise<LayerResult | null> {
    try {
      const data = JSON.parse(await fs.readFile(this.pathOf(diffId, analyzerKey), 'utf8')) as LayerResult;
      if (data.format !== LAYER_RESULT_FORMAT || data.diffId !== diffId || data.analyzerKey !== analyzerKey) return null;
      return data;
    } catch {
      return null;
    }
  }

  /** Stores a complete result; a layer whose walk stopped on a limit (an error notice) is partial and not stored. */
  async put(result: LayerResult): Promise<void> {
    if (result.notices.some((n) => n.level === 'error')) return;
    const path = this.pathOf(result.diffId, result.analyzerKey);
    await fs.mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(result));
    await fs.rename(tmp, path);
  }
}

import { promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Finding, OsInfo, Package, ScanNotice } from '../model/index.js';
import type { MergedImage } from './merge.js';
import { LAYER_RESULT_FORMAT, type LayerResult } from './runner.js';

/** What the static stage contributes to a report: the merged image without its file-by-file view. */
export interface StaticSummary {
  packages: Package[];
  findings: Finding[];
  os: OsInfo | null;
  notices: ScanNotice[];
  files: { count: number; bytes: number; removed: number };
  layerStats: { entries: number; whiteouts: number }[];
}

export function summarise(layers: readonly LayerResult[], merged: MergedImage): StaticSummary {
  let bytes = 0;
  for (const f of merged.files.values()) bytes += f.size;
  return {
    packages: merged.packages,
    findings: merged.findings,
    os: merged.os,
    notices: merged.notices,
    files: { count: merged.files.size, bytes, removed: merged.removed.length },
    layerStats: layers.map((l) => ({ entries: l.entries.length, whiteouts: l.whiteouts.length + l.opaqueDirs.length })),
  };
}

/**
 * Summaries of whole images, keyed by their layer diffIDs and the analyzer versions: a re-scan of an image skips
 * reading and merging its layers' results (as Trivy caches artifacts beside blobs). A summary that had errors
 * (a layer that could not be read completely) is not stored.
 */
export class ImageSummaryCache {
  readonly dir: string;

  constructor(cacheRoot: string) {
    this.dir = join(cacheRoot, 'images');
  }

  private pathOf(diffIds: readonly string[], analyzerKey: string): string {
    const key = createHash('sha256').update(`${LAYER_RESULT_FORMAT}\n${analyzerKey}\n${diffIds.join('\n')}`).digest('hex');
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(diffIds: readonly string[], analyzerKey: string): Promise<StaticSummary | null> {
    try {
      return JSON.parse(await fs.readFile(this.pathOf(diffIds, analyzerKey), 'utf8')) as StaticSummary;
    } catch {
      return null;
    }
  }

  async put(diffIds: readonly string[], analyzerKey: string, summary: StaticSummary): Promise<void> {
    if (summary.notices.some((n) => n.level === 'error')) return;
    const path = this.pathOf(diffIds, analyzerKey);
    await fs.mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(summary));
    await fs.rename(tmp, path);
  }
}

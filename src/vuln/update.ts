import { join } from 'node:path';
import { AdvisoryDbWriter } from './db.js';
import { downloadFeed } from './download.js';
import { readFeedsFrom } from './feeds/index.js';
import type { Progress } from '../progress/progress.js';
import { toolVersion } from '../version.js';

/** The OSV project's per-ecosystem dumps that `detonate db update` reads by default (malicious-package records included). */
export const OSV_ECOSYSTEMS = ['Debian', 'Alpine', 'Ubuntu', 'npm', 'PyPI', 'Go', 'Maven', 'RubyGems', 'crates.io', 'NuGet', 'Packagist'] as const;

export function defaultFeedUrls(env: NodeJS.ProcessEnv = process.env): string[] {
  const base = (env.DETONATE_OSV_BASE_URL ?? 'https://osv-vulnerabilities.storage.googleapis.com').replace(/\/+$/, '');
  return OSV_ECOSYSTEMS.map((e) => `${base}/${encodeURIComponent(e)}/all.zip`);
}

export interface UpdateOptions {
  /** Local files or directories (searched recursively, each feed recognised by its format) and URLs; default: OSV. */
  from: string[];
  dbPath: string;
  /** Where downloads are kept between updates (for resuming and If-None-Match). */
  downloadDir: string;
  progress: Progress;
}

export interface UpdateResult {
  records: number;
  bySource: Record<string, number>;
  notices: string[];
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Builds a fresh advisory DB from the sources and swaps it in; the old DB stays if anything fails. */
export async function updateAdvisoryDb(options: UpdateOptions): Promise<UpdateResult> {
  const sources = options.from.length > 0 ? options.from : defaultFeedUrls();
  const writer = await AdvisoryDbWriter.create(options.dbPath, toolVersion());
  const bySource: Record<string, number> = {};
  const notices: string[] = [];
  try {
    for (const source of sources) {
      const local = isUrl(source) ? await downloadFeed(source, options.downloadDir, options.progress, `download ${source}`) : source;
      const task = options.progress.task(`import ${source}`);
      const counts: Record<string, number> = {};
      let n = 0;
      for await (const record of readFeedsFrom(local, (message) => notices.push(`${source}: ${message}`))) {
        writer.add(record);
        counts[record.source] = (counts[record.source] ?? 0) + 1;
        if (++n % 5000 === 0) task.update(n, `${n} records`);
      }
      task.finish(`${n} records`);
      for (const [name, count] of Object.entries(counts)) {
        bySource[name] = (bySource[name] ?? 0) + count;
        writer.addSource(`${name} ${source}`, source, count);
      }
      if (n === 0) notices.push(`${source}: no advisory records found (is it a feed Detonate knows?)`);
    }
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { records: writer.records, bySource, notices };
}

export function defaultDownloadDir(cacheRoot: string): string {
  return join(cacheRoot, 'feeds');
}

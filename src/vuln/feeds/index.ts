/**
 * Every advisory feed format Detonate imports, and the reader `detonate db update --from` uses: give it a file or a
 * directory, it recognises each file's format from its name and first bytes and streams advisory records.
 *
 *   for await (const record of readFeedsFrom('/mirror/feeds', (m) => console.warn(m))) db.add(record);
 */
import { promises as fs, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { alpineSecdbImporter, createAlpineSecdbImporter } from './alpine-secdb.js';
import { baseName, errorMessage, readHead, type Notice } from './common.js';
import { createDebianDsaListImporter, createDebianVulnListImporter, debianDsaListImporter, debianVulnListImporter } from './debian-dsa-list.js';
import { createDebianTrackerImporter, debianTrackerImporter } from './debian-tracker.js';
import { createGhsaImporter, ghsaImporter } from './ghsa.js';
import { resolveFeedLimits, type FeedLimits } from './limits.js';
import { createNodejsSecurityWgImporter, nodejsSecurityWgImporter } from './nodejs-security-wg.js';
import { createOsvImporter, osvImporter } from './osv.js';
import { createRubysecImporter, rubysecImporter } from './rubysec.js';

export { DEFAULT_FEED_LIMITS, resolveFeedLimits, type FeedLimits } from './limits.js';
export type { Notice } from './common.js';
export type { FeedAffectedPackage, NativeRange } from './ranges.js';
export { mapOsvEcosystem, normalizePackageName } from './osv-record.js';
export { alpineSecdbImporter, debianDsaListImporter, debianTrackerImporter, debianVulnListImporter, ghsaImporter, nodejsSecurityWgImporter, osvImporter, rubysecImporter };

/**
 * The importers in the order `detectFeed` asks them: the more specific tests first (a GHSA file is also OSV JSON;
 * a DSA list has no extension to go by).
 */
export const FEED_IMPORTERS: readonly FeedImporter[] = [
  ghsaImporter,
  debianVulnListImporter,
  debianTrackerImporter,
  nodejsSecurityWgImporter,
  alpineSecdbImporter,
  rubysecImporter,
  osvImporter,
  debianDsaListImporter,
];

/** The same importers with other limits. */
export function createFeedImporters(overrides: Partial<FeedLimits> = {}): FeedImporter[] {
  const limits = resolveFeedLimits(overrides);
  return [
    createGhsaImporter(limits),
    createDebianVulnListImporter(limits),
    createDebianTrackerImporter(limits),
    createNodejsSecurityWgImporter(limits),
    createAlpineSecdbImporter(limits),
    createRubysecImporter(limits),
    createOsvImporter(limits),
    createDebianDsaListImporter(limits),
  ];
}

/** The importer for a file, from its path and first bytes (4 KiB is plenty), or null when none recognises it. */
export function detectFeed(path: string, head: Buffer, importers: readonly FeedImporter[] = FEED_IMPORTERS): FeedImporter | null {
  for (const importer of importers) {
    try {
      if (importer.detect(path, head)) return importer;
    } catch {
      // a detector is a cheap test on untrusted bytes: one that fails has simply not recognised the file
    }
  }
  return null;
}

export interface ReadFeedsOptions {
  /** Limits for the walk and for every importer (defaults: DEFAULT_FEED_LIMITS). */
  limits?: Partial<FeedLimits>;
  /** Importers to use instead of FEED_IMPORTERS. */
  importers?: readonly FeedImporter[];
}

const HEAD_BYTES = 4096;

/**
 * Advisory records from a feed file, or from every recognised file under a directory (walked in name order, at most
 * `maxWalkDepth` deep and `maxWalkFiles` files; hidden entries such as `.git` are skipped, symbolic links to
 * directories are not followed). Each notice starts with the file it concerns (relative to the directory). A file
 * no importer recognises gives a notice (the first `maxUnrecognisedNotices` one by one, then a count); a file whose
 * import fails gives a notice, keeps the records read before the failure, and the walk goes on.
 */
export async function* readFeedsFrom(pathOrDir: string, notice: Notice, options: ReadFeedsOptions = {}): AsyncGenerator<AdvisoryRecord> {
  const limits = resolveFeedLimits(options.limits);
  const importers = options.importers ?? (options.limits ? createFeedImporters(limits) : FEED_IMPORTERS);
  let unrecognised = 0;
  let files = 0;
  let stopped = false;

  async function* readFile(path: string, label: string): AsyncGenerator<AdvisoryRecord> {
    let head: Buffer;
    try {
      head = await readHead(path, HEAD_BYTES);
    } catch (err) {
      notice(`${label}: cannot be read (${errorMessage(err)}); skipped`);
      return;
    }
    const importer = detectFeed(path, head, importers);
    if (!importer) {
      if (++unrecognised <= limits.maxUnrecognisedNotices) notice(`${label}: not a feed format Detonate recognises; skipped`);
      return;
    }
    try {
      for await (const record of importer.read(path, (message) => notice(`${label}: ${message}`))) yield record;
    } catch (err) {
      notice(`${label}: ${importer.name} import failed (${errorMessage(err)}); the rest of the file is skipped`);
    }
  }

  async function* walk(dir: string, depth: number): AsyncGenerator<AdvisoryRecord> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      notice(`${relative(pathOrDir, dir) || dir}: cannot be listed (${errorMessage(err)}); skipped`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (stopped) return;
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const label = relative(pathOrDir, path);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(path).catch(() => null);
        if (target?.isDirectory()) {
          notice(`${label}: symbolic link to a directory, not followed`);
          continue;
        }
        isDirectory = false;
        isFile = target?.isFile() ?? false;
      }
      if (isDirectory) {
        if (depth + 1 > limits.maxWalkDepth) {
          notice(`${label}: deeper than ${limits.maxWalkDepth} levels; not read`);
          continue;
        }
        yield* walk(path, depth + 1);
      } else if (isFile) {
        if (++files > limits.maxWalkFiles) {
          notice(`more than ${limits.maxWalkFiles} files; the rest of ${pathOrDir} is not read`);
          stopped = true;
          return;
        }
        yield* readFile(path, label);
      }
    }
  }

  let root;
  try {
    root = await fs.stat(pathOrDir);
  } catch (err) {
    notice(`${pathOrDir}: cannot be read (${errorMessage(err)})`);
    return;
  }
  if (root.isDirectory()) yield* walk(pathOrDir, 0);
  else if (root.isFile()) yield* readFile(pathOrDir, baseName(pathOrDir));
  else notice(`${pathOrDir}: neither a file nor a directory`);
  if (unrecognised > limits.maxUnrecognisedNotices) notice(`${unrecognised - limits.maxUnrecognisedNotices} more files not recognised as feeds`);
}

/**
 * `detonate export --site DIR`: the whole results site as static files any web host can serve, or a person can open
 * from disk: the built site (index.html, assets/), and every answer of the API its pages read, as data files
 * (./static-site.ts has the layout). Search works without a server over an index written with it.
 *
 * The export is written into an empty folder, or over an earlier export (recognised by its data/static.js); any
 * other non-empty folder is refused, so a typo cannot mix the site into someone's files.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { FINDING_CATEGORIES } from '../model/index.js';
import type { Progress } from '../progress/progress.js';
import { aggregate } from '../store/aggregate.js';
import { allUnfinishedScans, currentResultsAfter, imagePage, searchKeysOfCurrentResults, type ImageHit, type Page, type ResultCursor } from '../store/search.js';
import { toolVersion } from '../version.js';
import { loadSite } from './site-files.js';
import {
  dataScript, indexKey, INDEXED_KINDS, shardOf, STATIC_CHUNK_IMAGES, STATIC_GLOBAL, STATIC_KEYS_PER_SHARD, STATIC_PAGE_SIZE, staticPaths,
  type IndexedKind, type StaticIndexedImage, type StaticSearchMeta,
} from './static-site.js';

/** The Content-Security-Policy of an exported page: its own scripts, styles and data files, nothing else. */
const EXPORT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'";
/** Image pages written at once (each is a few queries). */
const IMAGE_PAGE_CONCURRENCY = 4;

export interface ExportOptions {
  db: pg.Pool;
  /** The built site (dist/site/). */
  siteDir: string;
  outDir: string;
  progress: Progress;
}

export interface ExportSummary {
  images: number;
  maliciousImages: number;
  failed: number;
  indicators: number;
  files: number;
}

export async function exportSite({ db, siteDir, outDir, progress }: ExportOptions): Promise<ExportSummary> {
  await prepareOutDir(outDir);
  let files = 0;
  const folders = new Set<string>();
  const folderFor = async (file: string): Promise<void> => {
    const folder = dirname(file);
    if (folders.has(folder)) return;
    await mkdir(folder, { recursive: true });
    folders.add(folder);
  };
  /** Writes one API answer: api/<path>.json for scripts, data/<path>.js for the pages. */
  const put = async (path: string, value: unknown): Promise<void> => {
    const json = JSON.stringify(value);
    await folderFor(join(outDir, 'api', path));
    await folderFor(join(outDir, 'data', path));
    await writeFile(join(outDir, 'api', `${path}.json`), json);
    await writeFile(join(outDir, 'data', `${path}.js`), dataScript(path, json));
    files += 2;
  };
  const paged = async <T>(items: readonly T[], pathOf: (page: number) => string): Promise<void> => {
    const pages = Math.max(1, Math.ceil(items.length / STATIC_PAGE_SIZE));
    for (let page = 1; page <= pages; page++) {
      const slice = items.slice((page - 1) * STATIC_PAGE_SIZE, page * STATIC_PAGE_SIZE);
      const answer: Page<T> = { items: slice, page, pageSize: STATIC_PAGE_SIZE, more: page < pages };
      await put(pathOf(page), answer);
    }
  };

  files += await copySite(siteDir, outDir);
  const figures = await aggregate(db);
  await put(staticPaths.dashboard(), figures);

  // every current result, newest first: its page, and its place in the search index
  const images: StaticIndexedImage[] = [];
  const position = new Map<string, number>();
  const pagesTask = progress.task('export: image pages', figures.images.judged);
  let cursor: ResultCursor | null = null;
  do {
    const batch = await currentResultsAfter(db, cursor, STATIC_CHUNK_IMAGES);
    cursor = batch.next;
    for (const item of batch.items) {
      position.set(imageKey(item.hit.digest, item.hit.platform), images.length);
      images.push(item);
    }
    await forEachLimited(batch.items, IMAGE_PAGE_CONCURRENCY, async ({ hit }) => {
      const page = await imagePage(db, hit.digest, hit.platform);
      if (page) await put(staticPaths.image(hit.digest, hit.platform), page);
    });
    pagesTask.update(images.length);
  } while (cursor);
  pagesTask.finish(`${images.length} images`);

  const hits = images.map((i) => i.hit);
  const malicious = hits.filter((h) => h.malicious);
  await paged(malicious, (page) => staticPaths.malicious(undefined, page));
  for (const category of FINDING_CATEGORIES) await paged(malicious.filter((h) => h.categories.includes(category)), (page) => staticPaths.malicious(category, page));
  const failed = await allUnfinishedScans(db);
  await paged(failed, (page) => staticPaths.failed(page));

  // the search index: image chunks (names and digests are matched by reading them all), shards of keys → images
  const indexTask = progress.task('export: search index');
  for (let c = 0; c * STATIC_CHUNK_IMAGES < images.length; c++) await put(staticPaths.searchImages(c), images.slice(c * STATIC_CHUNK_IMAGES, (c + 1) * STATIC_CHUNK_IMAGES));
  const keys = new Map<IndexedKind, Map<string, Set<number>>>(INDEXED_KINDS.map((k) => [k, new Map()]));
  const indicators = new Map<string, { kind: string; value: string; images: Set<number> }>();
  const add = <K>(map: Map<K, Set<number>>, key: K, i: number) => {
    const set = map.get(key);
    if (set) set.add(i);
    else map.set(key, new Set([i]));
  };
  await searchKeysOfCurrentResults(db, (kind, key, digest, platform, indicatorKind) => {
    const i = position.get(imageKey(digest, platform));
    if (i === undefined) return; // a result newer than the walk above: in the next export
    add(keys.get(kind)!, indexKey(kind, key), i);
    if (indicatorKind) {
      const id = JSON.stringify([indicatorKind, key]);
      const entry = indicators.get(id) ?? { kind: indicatorKind, value: key, images: new Set<number>() };
      entry.images.add(i);
      indicators.set(id, entry);
    }
  });
  const shards = {} as Record<IndexedKind, number>;
  for (const [kind, map] of keys) {
    const count = Math.max(1, Math.ceil(map.size / STATIC_KEYS_PER_SHARD));
    shards[kind] = count;
    const byShard = Array.from({ length: count }, () => ({}) as Record<string, number[]>);
    for (const [key, set] of map) byShard[shardOf(key, count)]![key] = [...set].sort((a, b) => a - b);
    for (let s = 0; s < count; s++) await put(staticPaths.searchShard(kind, s), byShard[s]);
  }
  const meta: StaticSearchMeta = { images: images.length, chunkImages: STATIC_CHUNK_IMAGES, shards };
  await put(staticPaths.searchMeta(), meta);
  for (const { kind, value, images: set } of indicators.values()) {
    const list: ImageHit[] = [...set].sort((a, b) => a - b).map((i) => hits[i]!);
    await paged(list, (page) => staticPaths.indicator(kind, value, page));
  }
  indexTask.finish(`${indicators.size} indicators`);

  // written last: a folder without it is an export that did not finish
  await writeFile(join(outDir, 'data', 'static.js'), `window.${STATIC_GLOBAL} = ${JSON.stringify({ generatedAt: figures.generatedAt, tool: toolVersion(), images: images.length })};\n`);
  files += 1;
  return { images: images.length, maliciousImages: malicious.length, failed: failed.length, indicators: indicators.size, files };
}

const imageKey = (digest: string, platform: string) => `${digest}\n${platform}`;

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function prepareOutDir(outDir: string): Promise<void> {
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir);
    const earlierExport = existsSync(join(outDir, 'data', 'static.js')) || (entries.includes('data') && entries.includes('api') && entries.includes('index.html'));
    if (entries.length > 0 && !earlierExport) throw new Error(`${outDir} is not empty and holds no earlier export: export into an empty or new folder`);
    for (const name of ['index.html', 'assets', 'api', 'data']) await rm(join(outDir, name), { recursive: true, force: true });
  }
  await mkdir(join(outDir, 'data'), { recursive: true });
}

/**
 * The built site into `outDir`, as `detonate serve` holds it (./site-files.ts): its assets as they are, its page with
 * the export's CSP and data/static.js before the site's script.
 */
async function copySite(siteDir: string, outDir: string): Promise<number> {
  const site = loadSite(siteDir);
  const index = site.get('/')!.body.toString('utf8');
  if (!index.includes('<script') || !index.includes('<head>')) throw new Error(`${siteDir}/index.html is not the built site; rebuild it with \`npm run build\``);
  const page = index
    .replace('<head>', `<head>\n<meta http-equiv="Content-Security-Policy" content="${EXPORT_CSP}">`)
    .replace('<script', '<script src="./data/static.js"></script>\n<script');
  await writeFile(join(outDir, 'index.html'), page);
  await mkdir(join(outDir, 'assets'), { recursive: true });
  let written = 1;
  for (const [urlPath, file] of site) {
    if (!urlPath.startsWith('/assets/')) continue;
    await writeFile(join(outDir, urlPath.slice(1)), file.body);
    written++;
  }
  return written;
}

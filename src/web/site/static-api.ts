/**
 * The site opened from a static export (`detonate export --site DIR`): the API's answers are read from the export's
 * data files (../static-site.ts has the layout) instead of a server, and search runs here over the export's index.
 * Data files are scripts, loaded by adding a <script> element: that works from a web host and from disk (file://),
 * where fetch() is refused. Each calls `detonateData(path, json)` with the JSON as a string, parsed here.
 */
import { guessSearchKind, type ImageHit, type Page, type SearchKind } from '../../store/search.js';
import {
  indexKey, shardOf, STATIC_CALLBACK, STATIC_GLOBAL, STATIC_PAGE_SIZE, staticPaths, type IndexedKind, type StaticIndexedImage, type StaticSearchMeta,
} from '../static-site.js';

/** Not in the export: what the server would answer 404 for. */
export class NotExported extends Error {}

type Global = Record<string, unknown>;
const global = window as unknown as Global;

/** Whether this page is a static export (its data/static.js ran before the site's script). */
export const isStaticExport = (): boolean => typeof global[STATIC_GLOBAL] === 'object' && global[STATIC_GLOBAL] !== null;

const loaded = new Map<string, Promise<unknown>>();
const waiting = new Map<string, (json: string) => void>();

global[STATIC_CALLBACK] = (path: unknown, json: unknown) => {
  if (typeof path === 'string' && typeof json === 'string') waiting.get(path)?.(json);
};

function load<T>(path: string): Promise<T> {
  let promise = loaded.get(path);
  if (!promise) {
    promise = new Promise<unknown>((resolve, reject) => {
      const script = document.createElement('script');
      waiting.set(path, (json) => {
        waiting.delete(path);
        try {
          resolve(JSON.parse(json));
        } catch {
          reject(new Error(`the export's data file data/${path}.js is damaged`));
        }
      });
      script.onerror = () => {
        waiting.delete(path);
        loaded.delete(path);
        reject(new NotExported(`data/${path}.js is not in this export`));
      };
      script.onload = () => script.remove();
      script.src = `data/${path}.js`;
      document.head.appendChild(script);
    });
    loaded.set(path, promise);
  }
  return promise as Promise<T>;
}

const emptyPage = <T>(page: number): Page<T> => ({ items: [], page, pageSize: STATIC_PAGE_SIZE, more: false });

/** The answer the API gives for `apiPath` (e.g. `api/malicious?category=cryptominer&page=2`), from the export. */
export async function staticApi(apiPath: string): Promise<unknown> {
  const url = new URL(apiPath, 'http://export.invalid/');
  const [, route, ...rest] = url.pathname.slice(1).split('/').map(decodeURIComponent);
  const query = url.searchParams;
  const page = Math.max(1, Math.floor(Number(query.get('page') ?? '1')) || 1);
  switch (route) {
    case 'dashboard':
      return load(staticPaths.dashboard());
    case 'malicious':
      return load(staticPaths.malicious(query.get('category') ?? undefined, page)).catch((err: unknown) => (err instanceof NotExported && page > 1 ? emptyPage(page) : Promise.reject(err)));
    case 'failed':
      return load(staticPaths.failed(page)).catch((err: unknown) => (err instanceof NotExported ? emptyPage(page) : Promise.reject(err)));
    case 'images':
      return load(staticPaths.image(rest[0] ?? '', query.get('platform') ?? 'linux/amd64')).catch((err: unknown) =>
        Promise.reject(err instanceof NotExported ? new NotExported('this image is not in this export') : err));
    case 'indicators':
      // an indicator no image named has no page
      return load(staticPaths.indicator(rest[0] ?? '', rest[1] ?? '', page)).catch((err: unknown) => (err instanceof NotExported ? emptyPage(page) : Promise.reject(err)));
    case 'search':
      return search((query.get('q') ?? '').trim(), (query.get('kind') || undefined) as SearchKind | undefined, page);
    default:
      throw new NotExported(`${url.pathname} is not part of a static export`);
  }
}

async function imagesChunk(meta: StaticSearchMeta, chunk: number): Promise<StaticIndexedImage[]> {
  return chunk * meta.chunkImages < meta.images ? load<StaticIndexedImage[]>(staticPaths.searchImages(chunk)) : [];
}

/** The search the API runs, over the export's index: names and digests by a scan of the image chunks, the rest by their shards. */
async function search(q: string, kind: SearchKind | undefined, page: number): Promise<Page<ImageHit> & { kind: SearchKind }> {
  const chosen = kind ?? guessSearchKind(q);
  const meta = await load<StaticSearchMeta>(staticPaths.searchMeta());
  const found: number[] = [];
  if (chosen === 'repository' || chosen === 'digest') {
    const needle = q.toLowerCase();
    const chunks = Math.ceil(meta.images / meta.chunkImages);
    for (let c = 0; c < chunks; c++) {
      (await imagesChunk(meta, c)).forEach((image, j) => {
        const match = chosen === 'digest' ? image.hit.digest === needle : image.names.some((n) => n.toLowerCase().includes(needle));
        if (match) found.push(c * meta.chunkImages + j);
      });
    }
  } else {
    const indexed: IndexedKind = chosen;
    const keys = new Set([indexKey(indexed, q), ...(indexed === 'indicator' ? [q.toLowerCase()] : [])]);
    const matches = new Set<number>();
    for (const key of keys) {
      const shard = await load<Record<string, number[]>>(staticPaths.searchShard(indexed, shardOf(key, meta.shards[indexed])));
      if (Object.prototype.hasOwnProperty.call(shard, key)) for (const i of shard[key] ?? []) matches.add(i);
    }
    found.push(...[...matches].sort((a, b) => a - b));
  }
  const start = (page - 1) * STATIC_PAGE_SIZE;
  const items: ImageHit[] = [];
  for (const i of found.slice(start, start + STATIC_PAGE_SIZE)) {
    const image = (await imagesChunk(meta, Math.floor(i / meta.chunkImages)))[i % meta.chunkImages];
    if (image) items.push(image.hit);
  }
  return { items, page, pageSize: STATIC_PAGE_SIZE, more: found.length > start + STATIC_PAGE_SIZE, kind: chosen };
}

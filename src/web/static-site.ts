/**
 * The layout of a static export (`detonate export --site DIR`), shared by the exporter (./export.ts) and the site's
 * browser code (./site/static-api.ts), so the two cannot disagree on where a resource lives.
 *
 * Every API resource the site reads is written twice: `api/<path>.json` (plain JSON, for scripts and any static
 * host) and `data/<path>.js` (the same JSON as a string handed to `detonateData(path, json)`), which is what the
 * pages load: a browser will run a script from a page opened from disk (file://) but will not fetch() a file there.
 * Paths are made of `safeSegment`s, so no value from an image can name a file outside its folder, differ only by
 * case (case-insensitive hosts), or start with a dot.
 */
import type { ImageHit } from '../store/search.js';
import { MAX_EXPORT_PATH_SEGMENT_CHARS } from './limits.js';

/** Images per page of a listing or search result in an export (the API's default page size). */
export const STATIC_PAGE_SIZE = 20;
/** Images per chunk of the search index (`search/images/<n>`). */
export const STATIC_CHUNK_IMAGES = 500;
/** Keys per shard of a search index (`search/<kind>/<shard>`), on average. */
export const STATIC_KEYS_PER_SHARD = 2000;
/** The global the export's `data/static.js` sets: the site reads the export instead of an API when it is there. */
export const STATIC_GLOBAL = 'detonateStatic';
/** The function each data file calls. */
export const STATIC_CALLBACK = 'detonateData';

export const INDEXED_KINDS = ['package', 'vulnerability', 'indicator'] as const;
export type IndexedKind = (typeof INDEXED_KINDS)[number];

/** What `search/meta` holds. */
export interface StaticSearchMeta {
  images: number;
  chunkImages: number;
  shards: Record<IndexedKind, number>;
}

/** One image of the search index: the hit the lists show, and every tag naming it (for repository search). */
export interface StaticIndexedImage {
  hit: ImageHit;
  names: string[];
}

/** `value` as path segments: [a-z0-9_-] kept, every other UTF-8 byte as `~xx`, cut into segments of at most MAX_EXPORT_PATH_SEGMENT_CHARS. */
export function safeSegment(value: string): string {
  const parts: string[] = [];
  let current = '';
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    const token = /[a-z0-9_-]/.test(c) ? c : `~${byte.toString(16).padStart(2, '0')}`;
    if (current.length + token.length > MAX_EXPORT_PATH_SEGMENT_CHARS) {
      parts.push(current);
      current = '';
    }
    current += token;
  }
  parts.push(current || '~');
  return parts.join('/');
}

/** FNV-1a (32 bits) of `key`: which shard of a search index holds it. Not for security: a shard holds the key itself. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % Math.max(1, shards);
}

/** The normal form of a search key, on both sides: vulnerability ids in upper case (as the API compares them). */
export function indexKey(kind: IndexedKind, value: string): string {
  return kind === 'vulnerability' ? value.toUpperCase() : value;
}

export const staticPaths = {
  dashboard: () => 'dashboard',
  malicious: (category: string | undefined, page: number) => `malicious/${category ? safeSegment(category) : 'all'}/${page}`,
  failed: (page: number) => `failed/${page}`,
  image: (digest: string, platform: string) => `images/${safeSegment(digest)}/${safeSegment(platform)}`,
  indicator: (kind: string, value: string, page: number) => `indicators/${safeSegment(kind)}/${safeSegment(value)}/${page}`,
  searchMeta: () => 'search/meta',
  searchImages: (chunk: number) => `search/images/${chunk}`,
  searchShard: (kind: IndexedKind, shard: number) => `search/${kind}/${shard}`,
};

/** A data file's text: a call with the path and the JSON as string literals (JSON.stringify escapes everything a string literal needs). */
export function dataScript(path: string, json: string): string {
  return `${STATIC_CALLBACK}(${JSON.stringify(path)},${JSON.stringify(json)});\n`;
}

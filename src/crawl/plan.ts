/**
 * Parsing of the crawl's options as the command line gives them (`--tags`, `--sample`, `--seed`), and the cursor's
 * guard: a cursor records the source and the options that decided its sequence (`planOf`), and `checkCursor` refuses
 * one made by another source or other options, which would resume at a meaningless place.
 */
import { CrawlError, quote } from './errors.js';
import { MAX_NEWEST_TAGS, MAX_SAMPLE_SIZE, MAX_SEED_CHARS } from './limits.js';
import type { CrawlCursor, CrawlOptions, TagSelection } from './types.js';

/** `latest`, `newest:N` or `all`. */
export function parseTagSelection(text: string): TagSelection {
  const value = text.trim();
  if (value === 'latest') return { mode: 'latest' };
  if (value === 'all') return { mode: 'all' };
  const newest = /^newest:(\d{1,6})$/.exec(value);
  if (newest) {
    const count = Number(newest[1]);
    if (count >= 1 && count <= MAX_NEWEST_TAGS) return { mode: 'newest', count };
  }
  throw new CrawlError(`invalid --tags ${quote(text)}`, `use latest, all or newest:N with N from 1 to ${MAX_NEWEST_TAGS}`);
}

export function formatTagSelection(tags: TagSelection): string {
  return tags.mode === 'newest' ? `newest:${tags.count}` : tags.mode;
}

/** `--sample N` with `--seed S` (the seed is any text; the same text gives the same sample). */
export function parseSample(size: string | number, seed: string): { size: number; seed: string } {
  const n = typeof size === 'number' ? size : /^\d{1,9}$/.test(size.trim()) ? Number(size.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLE_SIZE) throw new CrawlError(`invalid --sample ${quote(String(size))}`, `a number of repositories from 1 to ${MAX_SAMPLE_SIZE}`);
  if (seed.length > MAX_SEED_CHARS) throw new CrawlError(`--seed is longer than ${MAX_SEED_CHARS} characters`);
  return { size: n, seed };
}

/** The options that decide which targets come in which order, in one canonical string. */
export function planOf(options: CrawlOptions, appliesTags: boolean): string {
  const parts: string[] = [];
  if (appliesTags) parts.push(`tags=${formatTagSelection(options.tags ?? { mode: 'latest' })}`);
  if (options.sample) parts.push(`sample=${options.sample.size}`, `seed=${JSON.stringify(options.sample.seed)}`);
  parts.push(`order=${options.order ?? 'name'}`);
  return parts.join(' ');
}

/**
 * A cursor read back from storage, checked field by field (it is the caller's JSON, but a store can be edited or
 * corrupt). Throws a `CrawlError` for anything that is not a cursor.
 */
export function parseCrawlCursor(value: unknown): CrawlCursor {
  const bad = (why: string) => new CrawlError(`the saved crawl position is not valid: ${why}`, 'start the crawl again without it');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('not an object');
  const o = value as Record<string, unknown>;
  if (o.v !== 1) throw bad('unknown version');
  if (typeof o.source !== 'string' || typeof o.plan !== 'string') throw bad('no source or plan');
  const cursor: { -readonly [K in keyof CrawlCursor]: CrawlCursor[K] } = { v: 1, source: o.source, plan: o.plan };
  for (const key of ['repository', 'tag'] as const) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== 'string') throw bad(`${key} is not a string`);
    cursor[key] = o[key];
  }
  for (const key of ['pulls', 'line'] as const) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== 'number' || !Number.isSafeInteger(o[key]) || o[key] < 0) throw bad(`${key} is not a count`);
    cursor[key] = o[key];
  }
  return cursor;
}

/** Throws when `cursor` was not made by this source with these options. */
export function checkCursor(cursor: CrawlCursor, spec: string, plan: string): void {
  if (cursor.source !== spec) {
    throw new CrawlError(`the saved crawl position belongs to ${quote(cursor.source)}, not ${quote(spec)}`, 'resume each source with its own position');
  }
  if (cursor.plan !== plan) {
    throw new CrawlError(
      `the saved crawl position of ${spec} was made with other options (${cursor.plan}; now ${plan})`,
      'resume with the same --tags, --sample, --seed and order, or start the crawl of this source again',
    );
  }
}

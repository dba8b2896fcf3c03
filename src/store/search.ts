/**
 * The results site's queries (src/web/): search, listings and an image's page, over each image's current result (its
 * latest done scan, kept in `image_results` by a trigger: migration 007). Every query is parameterised and bounded:
 * a page holds at most `MAX_PAGE_SIZE` images and no page starts past `MAX_SEARCH_OFFSET`.
 */
import type pg from 'pg';
import type { FindingCategory, Report } from '../model/index.js';
import { MAX_PAGE_SIZE, MAX_SEARCH_OFFSET, MAX_SHARING_IMAGES, MAX_TAGS_PER_HIT } from './limits.js';
import type { IndicatorKind } from './rows.js';

export const SEARCH_KINDS = ['repository', 'digest', 'package', 'vulnerability', 'indicator'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** One image in a result list: its current result in brief. */
export interface ImageHit {
  digest: string;
  platform: string;
  /** Tags that name it (`registry/repository:tag`), at most `MAX_TAGS_PER_HIT`. */
  references: string[];
  /** Its repositories' largest pull count, when a source knew it. */
  pulls: number | null;
  malicious: boolean;
  categories: string[];
  vulnerabilities: Record<string, number>;
  scannedAt: string;
  /** Whether it ran in a sandbox. */
  detonated: boolean;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  /** Whether another page follows. */
  more: boolean;
}

export interface PageRequest {
  /** 1-based. */
  page?: number;
  pageSize?: number;
}

/** A request's page, clamped to the store's bounds; the offset is refused past `MAX_SEARCH_OFFSET`. */
export function pageBounds(request: PageRequest): { page: number; pageSize: number; offset: number } {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(request.pageSize ?? 20)));
  const page = Math.max(1, Math.floor(request.page ?? 1));
  const offset = (page - 1) * pageSize;
  if (offset > MAX_SEARCH_OFFSET) throw new RangeError(`pages end at result ${MAX_SEARCH_OFFSET}: narrow the search`);
  return { page, pageSize, offset };
}

/** What a query most likely names, when the caller did not say. */
export function guessSearchKind(q: string): SearchKind {
  if (/^sha256:[0-9a-f]{64}$/i.test(q)) return 'digest';
  if (/^(CVE-\d{4}-\d+|GHSA(-[0-9a-z]{4}){3}|(DSA|DLA|DTSA|USN|ALSA|RHSA|PYSEC|GO|RUSTSEC|MAL|OSV)-[\w.:-]+)$/i.test(q)) return 'vulnerability';
  if (/^[0-9a-f]{64}$/i.test(q) || /^\d{1,3}(\.\d{1,3}){3}$/.test(q)) return 'indicator';
  if (/^[^\s/:]+@[^\s@/]+$/.test(q)) return 'package';
  return 'repository';
}

/** A tag row's reference as people write it: `registry/repository:tag` (no `:tag` for a digest-only name). */
const referenceName = (images: string) => `${images}.registry || '/' || ${images}.repository || CASE WHEN ${images}.tag = '' THEN '' ELSE ':' || ${images}.tag END`;

/** The references naming the image of row `row` (its image_digest and platform), sorted, at most `MAX_TAGS_PER_HIT`: a `refs` column. */
const referencesOf = (row: string) =>
  `(SELECT array_agg(t.name ORDER BY t.name) FROM (SELECT ${referenceName('i')} AS name FROM images i
                                                    WHERE i.digest = ${row}.image_digest AND i.platform = ${row}.platform ORDER BY 1 LIMIT ${MAX_TAGS_PER_HIT}) t) AS refs`;

/** The current results among the scans `matchingScans` selects (as `id`), newest first, with their tags and pulls. */
function hitsQuery(matchingScans: string): string {
  return `WITH page AS (
       SELECT r.* FROM image_results r WHERE r.scan_id IN (${matchingScans})
        ORDER BY r.finished_at DESC, r.scan_id DESC LIMIT $1 OFFSET $2)
     SELECT c.image_digest, c.platform, c.malicious, c.categories, c.vulnerability_counts, c.finished_at, c.detonated,
            ${referencesOf('c')},
            (SELECT max(i.pull_count) FROM images i WHERE i.digest = c.image_digest AND i.platform = c.platform)::text AS pulls
       FROM page c
      ORDER BY c.finished_at DESC, c.scan_id DESC`;
}

interface HitRow {
  image_digest: string; platform: string; malicious: boolean; categories: string[] | null; vulnerability_counts: Record<string, number> | null;
  finished_at: Date; detonated: boolean; refs: string[] | null; pulls: string | null;
}

function hit(r: HitRow): ImageHit {
  return {
    digest: r.image_digest, platform: r.platform, references: r.refs ?? [], pulls: r.pulls === null ? null : Number(r.pulls), malicious: r.malicious,
    categories: r.categories ?? [], vulnerabilities: r.vulnerability_counts ?? {}, scannedAt: r.finished_at.toISOString(), detonated: r.detonated,
  };
}

async function pageOf(db: pg.Pool | pg.PoolClient, matchingScans: string, params: unknown[], request: PageRequest): Promise<Page<ImageHit>> {
  const { page, pageSize, offset } = pageBounds(request);
  const { rows } = await db.query<HitRow>(hitsQuery(matchingScans), [pageSize + 1, offset, ...params]);
  return { items: rows.slice(0, pageSize).map(hit), page, pageSize, more: rows.length > pageSize };
}

/** Images whose current result matches `q` as `kind` (guessed when not given), newest first. */
export async function searchImages(db: pg.Pool | pg.PoolClient, q: string, kind: SearchKind | undefined, request: PageRequest): Promise<Page<ImageHit> & { kind: SearchKind }> {
  const chosen = kind ?? guessSearchKind(q);
  const matching = (() => {
    switch (chosen) {
      case 'digest':
        return { sql: 'SELECT scan_id FROM image_results WHERE image_digest = $3', params: [q.toLowerCase()] };
      case 'repository':
        return {
          sql: `SELECT r.scan_id FROM images i JOIN image_results r ON r.image_digest = i.digest AND r.platform = i.platform
                 WHERE (i.registry || '/' || i.repository || ':' || i.tag) ILIKE '%' || $3 || '%' ESCAPE '\\'`,
          params: [q.replace(/[\\%_]/g, (c) => `\\${c}`)],
        };
      case 'package': {
        const at = q.lastIndexOf('@');
        const [name, version] = at > 0 ? [q.slice(0, at), q.slice(at + 1)] : [q, null];
        // a rematch's scan has the rows of the scan it re-used (inventory_of): both are looked up by the index
        return {
          sql: `SELECT p.scan_id FROM scan_packages p WHERE p.name = $3 AND ($4::text IS NULL OR p.version = $4)
                UNION ALL
                SELECT s.id FROM scan_packages p JOIN scans s ON s.inventory_of = p.scan_id WHERE p.name = $3 AND ($4::text IS NULL OR p.version = $4)`,
          params: [name, version],
        };
      }
      case 'vulnerability':
        return { sql: 'SELECT scan_id FROM scan_vulnerabilities WHERE id = $3 OR aliases @> ARRAY[$3]', params: [q.toUpperCase()] };
      case 'indicator':
        return { sql: 'SELECT scan_id FROM scan_indicators WHERE value = $3 OR value = lower($3)', params: [q] };
    }
  })();
  return { ...(await pageOf(db, matching.sql, matching.params, request)), kind: chosen };
}

/** Malicious images, or those of one category, newest first. */
export function maliciousImages(db: pg.Pool | pg.PoolClient, category: FindingCategory | undefined, request: PageRequest): Promise<Page<ImageHit>> {
  return pageOf(db, 'SELECT scan_id FROM image_results WHERE malicious AND ($3::text IS NULL OR $3 = ANY(categories))', [category ?? null], request);
}

/** Images whose current result names this indicator. */
export function indicatorImages(db: pg.Pool | pg.PoolClient, kind: IndicatorKind, value: string, request: PageRequest): Promise<Page<ImageHit>> {
  return pageOf(db, 'SELECT scan_id FROM scan_indicators WHERE kind = $3 AND value = $4', [kind, value], request);
}

export interface FailedScan {
  reference: string;
  status: 'failed' | 'skipped';
  stage: string | null;
  reason: string;
  at: string;
}

/** The latest attempt of every reference whose latest attempt is not done, newest first. */
const UNFINISHED_SCANS = `SELECT reference, status, failed_stage, reason, at FROM (
       SELECT DISTINCT ON (reference) reference, status, failed_stage, reason, COALESCE(finished_at, started_at, now()) AS at, id
         FROM scans ORDER BY reference, id DESC) latest
      WHERE status <> 'done' ORDER BY at DESC, id DESC`;

interface UnfinishedRow {
  reference: string; status: 'failed' | 'skipped'; failed_stage: string | null; reason: string | null; at: Date;
}
const failedScan = (r: UnfinishedRow): FailedScan => ({ reference: r.reference, status: r.status, stage: r.failed_stage, reason: r.reason ?? '', at: r.at.toISOString() });

/** References whose latest attempt failed or was skipped, with why, newest first. */
export async function unfinishedScans(db: pg.Pool | pg.PoolClient, request: PageRequest): Promise<Page<FailedScan>> {
  const { page, pageSize, offset } = pageBounds(request);
  const { rows } = await db.query<UnfinishedRow>(`${UNFINISHED_SCANS} LIMIT $1 OFFSET $2`, [pageSize + 1, offset]);
  return { items: rows.slice(0, pageSize).map(failedScan), page, pageSize, more: rows.length > pageSize };
}

export interface ImagePage {
  report: Report;
  /** Every tag that names this image (digest and platform). */
  references: Array<{ reference: string; pulls: number | null; firstSeen: string; lastSeen: string }>;
  /** The advisory DB builds its result was checked against after it was made (rematch). */
  checkedAgainst: string[];
  /** Other images whose current result has one of this image's malicious layers (by diffID), at most `MAX_SHARING_IMAGES`. */
  sharingMaliciousLayers: Array<{ digest: string; platform: string; references: string[]; layers: string[] }>;
}

/** An image's page: its current report and every tag that names it; null when the store has no result for it. */
export async function imagePage(db: pg.Pool | pg.PoolClient, digest: string, platform: string): Promise<ImagePage | null> {
  const { rows } = await db.query<{ id: string; report: string }>(
    'SELECT s.id, s.report::text AS report FROM image_results r JOIN scans s ON s.id = r.scan_id WHERE r.image_digest = $1 AND r.platform = $2',
    [digest, platform],
  );
  if (!rows[0]) return null;
  const [refs, checks, sharing] = await Promise.all([
    db.query<{ name: string; pull_count: string | null; first_seen: Date; last_seen: Date }>(
      `SELECT ${referenceName('images')} AS name, pull_count::text, first_seen, last_seen
         FROM images WHERE digest = $1 AND platform = $2 ORDER BY name LIMIT 1000`,
      [digest, platform],
    ),
    db.query<{ built: Date }>('SELECT advisory_db_built_at AS built FROM scan_checks WHERE scan_id = $1 ORDER BY 1', [rows[0].id]),
    // a rematch's scan has the layers of the scan it re-used (inventory_of), on both sides
    db.query<{ image_digest: string; platform: string; layers: string[]; refs: string[] | null }>(
      `WITH mine AS (
         SELECT l.diff_id FROM scans s JOIN scan_layers l ON l.scan_id = COALESCE(s.inventory_of, s.id) WHERE s.id = $1 AND l.malicious),
       analysed AS (SELECT l.scan_id, l.diff_id FROM mine m JOIN scan_layers l ON l.diff_id = m.diff_id),
       candidates AS (SELECT scan_id AS id, diff_id FROM analysed UNION ALL SELECT s.id, a.diff_id FROM analysed a JOIN scans s ON s.inventory_of = a.scan_id),
       other AS (
         SELECT r.image_digest, r.platform, array_agg(DISTINCT c.diff_id ORDER BY c.diff_id) AS layers
           FROM candidates c JOIN image_results r ON r.scan_id = c.id
          WHERE NOT (r.image_digest = $2 AND r.platform = $3)
          GROUP BY r.image_digest, r.platform ORDER BY r.image_digest, r.platform LIMIT ${MAX_SHARING_IMAGES})
       SELECT o.image_digest, o.platform, o.layers,
              ${referencesOf('o')}
         FROM other o ORDER BY o.image_digest, o.platform`,
      [rows[0].id, digest, platform],
    ),
  ]);
  return {
    report: JSON.parse(rows[0].report) as Report,
    references: refs.rows.map((r) => ({ reference: r.name, pulls: r.pull_count === null ? null : Number(r.pull_count), firstSeen: r.first_seen.toISOString(), lastSeen: r.last_seen.toISOString() })),
    checkedAgainst: checks.rows.map((c) => c.built.toISOString()),
    sharingMaliciousLayers: sharing.rows.map((r) => ({ digest: r.image_digest, platform: r.platform, references: r.refs ?? [], layers: r.layers })),
  };
}

/** Where a walk over every current result stands: after this one (newest first). */
export interface ResultCursor {
  finishedAt: string;
  scanId: string;
}

/**
 * Every current result, newest first, a batch at a time (keyset paging: no offset bound, for the static export),
 * each with its hit and every tag that names it (at most 1,000, as an image's page).
 */
export async function currentResultsAfter(db: pg.Pool | pg.PoolClient, after: ResultCursor | null, limit: number): Promise<{ items: Array<{ hit: ImageHit; names: string[] }>; next: ResultCursor | null }> {
  const { rows } = await db.query<HitRow & { scan_id: string; finished_text: string; names: string[] | null }>(
    `SELECT c.scan_id::text, c.image_digest, c.platform, c.malicious, c.categories, c.vulnerability_counts, c.finished_at, c.finished_at::text AS finished_text, c.detonated,
            ${referencesOf('c')},
            (SELECT array_agg(t.name ORDER BY t.name) FROM (SELECT ${referenceName('i')} AS name FROM images i
                WHERE i.digest = c.image_digest AND i.platform = c.platform ORDER BY 1 LIMIT 1000) t) AS names,
            (SELECT max(i.pull_count) FROM images i WHERE i.digest = c.image_digest AND i.platform = c.platform)::text AS pulls
       FROM image_results c
      WHERE $1::timestamptz IS NULL OR (c.finished_at, c.scan_id) < ($1::timestamptz, $2::bigint)
      ORDER BY c.finished_at DESC, c.scan_id DESC LIMIT $3`,
    [after?.finishedAt ?? null, after?.scanId ?? null, limit],
  );
  const last = rows[rows.length - 1];
  return {
    items: rows.map((r) => ({ hit: hit(r), names: r.names ?? [] })),
    next: rows.length < limit || !last ? null : { finishedAt: last.finished_text, scanId: last.scan_id },
  };
}

/**
 * What the search looks up besides names, for every current result: (kind, key, image) rows in `onRow`, streamed in
 * batches by scan id; an indicator's row also says which kind of indicator it is.
 */
export async function searchKeysOfCurrentResults(
  db: pg.Pool | pg.PoolClient,
  onRow: (kind: 'package' | 'vulnerability' | 'indicator', key: string, digest: string, platform: string, indicatorKind?: IndicatorKind) => void,
  batch = 500,
): Promise<void> {
  let after = '0';
  for (;;) {
    const { rows: results } = await db.query<{ scan_id: string; inventory: string; image_digest: string; platform: string }>(
      `SELECT r.scan_id::text, COALESCE(s.inventory_of, s.id)::text AS inventory, r.image_digest, r.platform
         FROM image_results r JOIN scans s ON s.id = r.scan_id WHERE r.scan_id > $1::bigint ORDER BY r.scan_id LIMIT $2`,
      [after, batch],
    );
    if (results.length === 0) return;
    after = results[results.length - 1]!.scan_id;
    const byScan = new Map(results.map((r) => [r.scan_id, r]));
    const byInventory = new Map<string, typeof results>();
    for (const r of results) {
      const sharing = byInventory.get(r.inventory);
      if (sharing) sharing.push(r);
      else byInventory.set(r.inventory, [r]);
    }
    const scanIds = results.map((r) => r.scan_id);
    const [packages, vulnerabilities, indicators] = await Promise.all([
      db.query<{ scan_id: string; name: string; version: string }>('SELECT DISTINCT scan_id::text, name, version FROM scan_packages WHERE scan_id = ANY($1::bigint[])', [[...byInventory.keys()]]),
      db.query<{ scan_id: string; id: string; aliases: string[] }>('SELECT scan_id::text, id, aliases FROM scan_vulnerabilities WHERE scan_id = ANY($1::bigint[])', [scanIds]),
      db.query<{ scan_id: string; kind: IndicatorKind; value: string }>('SELECT scan_id::text, kind, value FROM scan_indicators WHERE scan_id = ANY($1::bigint[])', [scanIds]),
    ]);
    for (const p of packages.rows) {
      for (const r of byInventory.get(p.scan_id) ?? []) {
        onRow('package', p.name, r.image_digest, r.platform);
        onRow('package', `${p.name}@${p.version}`, r.image_digest, r.platform);
      }
    }
    for (const v of vulnerabilities.rows) {
      const r = byScan.get(v.scan_id)!;
      for (const id of [v.id, ...v.aliases]) onRow('vulnerability', id, r.image_digest, r.platform);
    }
    for (const i of indicators.rows) {
      const r = byScan.get(i.scan_id)!;
      onRow('indicator', i.value, r.image_digest, r.platform, i.kind);
    }
  }
}

/** Every reference whose latest attempt failed or was skipped, newest first (the export's listing: no offset bound). */
export async function allUnfinishedScans(db: pg.Pool | pg.PoolClient): Promise<FailedScan[]> {
  return (await db.query<UnfinishedRow>(UNFINISHED_SCANS)).rows.map(failedScan);
}

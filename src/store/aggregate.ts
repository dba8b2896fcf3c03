/**
 * The store's figures over every image it judged: "the state of the registry" (`detonate report --aggregate`, and the
 * site's dashboard). An image is a digest and platform; its result is its latest done scan (a rematch's scan when one
 * was made, the analysed one when the rematch only checked it). Pulls are the repositories' pull counts where the
 * source knew them (Docker Hub's listing): each repository counted once per figure, with its largest count.
 */
import type pg from 'pg';
import type { AggregateReport, FindingCategory, Ranked, WorstSeverity } from '../model/index.js';
import { AGGREGATE_TOP_N } from './limits.js';

/** Each image's current result (image_results, migration 007): what the figures count. */
const CURRENT = `current AS (
  SELECT scan_id AS id, image_digest, platform, malicious, categories, vulnerability_counts, advisory_db_built_at, detonated, finished_at FROM image_results)`;

/** Each repository's largest pull count, with the images its tags named. */
const REPOSITORIES = `repos AS (
  SELECT registry, repository, digest, platform, max(pull_count) OVER (PARTITION BY registry, repository) AS pulls FROM images)`;

export async function aggregate(db: pg.Pool | pg.PoolClient, now = new Date()): Promise<AggregateReport> {
  const top = AGGREGATE_TOP_N;
  const one = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T> => (await db.query<T>(sql, params)).rows[0]!;
  const all = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => (await db.query<T>(sql, params)).rows;
  const pulls = (v: string | null) => (v === null ? null : Number(v));

  const totals = await one<{ judged: number; detonated: number; malicious: number; not_matched: number; from: Date | null; to: Date | null }>(
    `WITH ${CURRENT}
     SELECT count(*)::int AS judged, count(*) FILTER (WHERE detonated)::int AS detonated, count(*) FILTER (WHERE malicious)::int AS malicious,
            count(*) FILTER (WHERE advisory_db_built_at IS NULL)::int AS not_matched, min(finished_at) AS from, max(finished_at) AS to
       FROM current`,
  );
  const tags = await one<{ tags: number; repositories: number; malicious_pulls: string | null }>(
    `WITH ${CURRENT}, ${REPOSITORIES}
     SELECT (SELECT count(*) FROM images i WHERE EXISTS (SELECT 1 FROM current c WHERE c.image_digest = i.digest AND c.platform = i.platform))::int AS tags,
            (SELECT count(DISTINCT (registry, repository)) FROM images i WHERE EXISTS (SELECT 1 FROM current c WHERE c.image_digest = i.digest AND c.platform = i.platform))::int AS repositories,
            (SELECT sum(pulls) FROM (SELECT DISTINCT r.registry, r.repository, r.pulls FROM repos r JOIN current c ON c.image_digest = r.digest AND c.platform = r.platform WHERE c.malicious) m)::text AS malicious_pulls`,
  );
  const unfinished = await all<{ status: string; why: string; n: number }>(
    `WITH latest AS (
       SELECT DISTINCT ON (reference) reference, status, COALESCE(failed_stage, reason) AS why FROM scans ORDER BY reference, id DESC)
     SELECT status, why, count(*)::int AS n FROM latest WHERE status <> 'done' GROUP BY status, why ORDER BY n DESC, why`,
  );
  const ranked = (status: string) => unfinished.filter((u) => u.status === status).slice(0, top).map((u) => ({ value: u.why, images: u.n }));
  const sum = (status: string) => unfinished.filter((u) => u.status === status).reduce((n, u) => n + u.n, 0);

  const worst = await one<Record<WorstSeverity, number>>(
    `WITH ${CURRENT}, counted AS (
       SELECT vulnerability_counts AS v FROM current WHERE advisory_db_built_at IS NOT NULL)
     SELECT count(*) FILTER (WHERE (v->>'critical')::int > 0)::int AS critical,
            count(*) FILTER (WHERE (v->>'critical')::int = 0 AND (v->>'high')::int > 0)::int AS high,
            count(*) FILTER (WHERE (v->>'critical')::int = 0 AND (v->>'high')::int = 0 AND (v->>'moderate')::int > 0)::int AS moderate,
            count(*) FILTER (WHERE (v->>'critical')::int = 0 AND (v->>'high')::int = 0 AND (v->>'moderate')::int = 0 AND (v->>'low')::int > 0)::int AS low,
            count(*) FILTER (WHERE (v->>'critical')::int = 0 AND (v->>'high')::int = 0 AND (v->>'moderate')::int = 0 AND (v->>'low')::int = 0
                                   AND (v->>'unknown')::int > 0)::int AS unknown,
            count(*) FILTER (WHERE (v->>'critical')::int + (v->>'high')::int + (v->>'moderate')::int + (v->>'low')::int + (v->>'unknown')::int = 0)::int AS none
       FROM counted`,
  );

  const categories = await all<{ category: FindingCategory; images: number; malicious: number; repositories: number; pulls: string | null }>(
    `WITH ${CURRENT}, ${REPOSITORIES},
     hits AS (SELECT DISTINCT f.category, c.image_digest, c.platform, c.malicious FROM current c JOIN scan_findings f ON f.scan_id = c.id)
     SELECT h.category, count(DISTINCT (h.image_digest, h.platform))::int AS images,
            count(DISTINCT (h.image_digest, h.platform)) FILTER (WHERE h.malicious)::int AS malicious,
            count(DISTINCT (r.registry, r.repository))::int AS repositories,
            (SELECT sum(pulls) FROM (SELECT DISTINCT r2.registry, r2.repository, r2.pulls FROM repos r2 JOIN hits h2 ON h2.image_digest = r2.digest AND h2.platform = r2.platform
                                      WHERE h2.category = h.category) p)::text AS pulls
       FROM hits h LEFT JOIN repos r ON r.digest = h.image_digest AND r.platform = h.platform
      GROUP BY h.category ORDER BY images DESC, h.category`,
  );
  const windows = await one<{ images: number; pulls: string | null }>(
    `WITH ${CURRENT}, ${REPOSITORIES},
     hits AS (SELECT DISTINCT c.image_digest, c.platform FROM current c JOIN scan_findings f ON f.scan_id = c.id
               WHERE f.category = 'windows-malware' AND c.platform LIKE 'linux/%')
     SELECT (SELECT count(*) FROM hits)::int AS images,
            (SELECT sum(pulls) FROM (SELECT DISTINCT r.registry, r.repository, r.pulls FROM repos r JOIN hits h ON h.image_digest = r.digest AND h.platform = r.platform) p)::text AS pulls`,
  );

  const vulnerabilities = await all<{ value: string; severity: string; images: number }>(
    `WITH ${CURRENT}
     SELECT v.id AS value, mode() WITHIN GROUP (ORDER BY v.severity) AS severity, count(DISTINCT c.id)::int AS images
       FROM current c JOIN scan_vulnerabilities v ON v.scan_id = c.id
      GROUP BY v.id ORDER BY images DESC, v.id LIMIT $1`,
    [top],
  );
  const indicator = (kind: string) =>
    all<Ranked>(
      `WITH ${CURRENT}
       SELECT i.value, count(DISTINCT c.id)::int AS images FROM current c JOIN scan_indicators i ON i.scan_id = c.id
        WHERE i.kind = $1 GROUP BY i.value ORDER BY images DESC, i.value LIMIT $2`,
      [kind, top],
    );
  // a tool installed as a package is named by its finding's title ("Nmap installed (deb package nmap 7.93)"); others by rule
  const attackTools = await all<Ranked>(
    `WITH ${CURRENT}
     SELECT CASE WHEN f.rule = 'hacking-tool/package' THEN split_part(f.title, ' installed (', 1) ELSE f.rule END AS value, count(DISTINCT c.id)::int AS images
       FROM current c JOIN scan_findings f ON f.scan_id = c.id
      WHERE f.category = 'hacking-tool' GROUP BY 1 ORDER BY images DESC, value LIMIT $1`,
    [top],
  );
  const byDay = await all<{ date: string; judged: number; malicious: number }>(
    `WITH ${CURRENT}
     SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, count(*)::int AS judged, count(*) FILTER (WHERE malicious)::int AS malicious
       FROM current GROUP BY 1 ORDER BY 1`,
  );

  return {
    generatedAt: now.toISOString(),
    window: { from: totals.from?.toISOString() ?? null, to: totals.to?.toISOString() ?? null },
    images: {
      judged: totals.judged, detonated: totals.detonated, tags: tags.tags, repositories: tags.repositories, malicious: totals.malicious,
      maliciousPulls: pulls(tags.malicious_pulls),
    },
    unfinished: { failed: sum('failed'), skipped: sum('skipped'), failedByStage: ranked('failed'), skippedByReason: ranked('skipped') },
    worstSeverity: worst,
    notMatched: totals.not_matched,
    categories: categories.map((c) => ({ category: c.category, images: c.images, malicious: c.malicious, repositories: c.repositories, pulls: pulls(c.pulls) })),
    windowsMalwareInLinux: { images: windows.images, pulls: pulls(windows.pulls) },
    top: { vulnerabilities, pools: await indicator('pool'), wallets: await indicator('wallet'), domains: await indicator('domain'), attackTools },
    byDay,
  };
}

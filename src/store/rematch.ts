/**
 * The store's side of `detonate rematch` (src/rematch/): read the latest done scan of each image in batches (its match
 * keys and fingerprint; the reports only of those matched in full), record a batch of re-matched scans with what
 * changed and of scans checked unchanged (`scan_checks`, migration 006), and list the changes. A re-matched scan is a done scan like any other
 * (its report, verdict and normalised rows), with `rematch_of` naming the scan it re-used and `inventory_of` the
 * analysed scan whose package rows stand for its own (migration 005: they are not copied; `scan_inventory` joins them).
 */
import type pg from 'pg';
import type { Report } from '../model/index.js';
import type { MatchSummary } from '../vuln/fingerprint.js';
import { reportRows, storableText } from './rows.js';
import { SHOWN_TEXT_BYTES } from './limits.js';

/** The latest done scan of one image, as a rematch reads it: not its report (`storedReports` reads those it needs). */
export interface LatestScan {
  id: number;
  reference: string;
  digest: string;
  platform: string;
  advisoryDbBuiltAt: Date | null;
  /** The scan used the advisory DB the rematch asked about, or was checked against it (scan_checks). */
  matched: boolean;
  /** Its match keys and fingerprint (src/vuln/fingerprint.ts); null for a scan stored without them. */
  match: MatchSummary | null;
}

export interface LatestScanPage {
  scans: LatestScan[];
  /** Pass as `afterId` for the next page; null when this was the last. */
  nextAfterId: number | null;
}

export interface LatestScanQuery {
  /** Scans with a greater id only (keyset pagination). */
  afterId: number;
  /** Scans up to this id only: the newest when the rematch started, so that what it records is not read again. */
  upToId: number;
  limit: number;
  /** Scans that used this advisory DB, or were checked against it, come as `matched`. */
  advisoryDbBuiltAt: string;
  /** Only images whose latest scan finished at or after this. */
  since?: Date;
}

/** The newest done scan's id (the end of a rematch's walk), or 0. */
export async function newestDoneScanId(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ id: string | null }>("SELECT max(id) AS id FROM scans WHERE status = 'done'");
  return Number(rows[0]?.id ?? 0);
}

/**
 * One page of images, each by its latest done scan (newest `finished_at`, then id, as `getLatestReport` reads it),
 * in id order. Failed and skipped scans never come: an image whose latest attempt failed is read by its latest done
 * scan, and one never scanned to the end is not read at all.
 */
export async function latestDoneScans(db: pg.Pool | pg.PoolClient, query: LatestScanQuery): Promise<LatestScanPage> {
  const { rows } = await db.query<{
    id: string; reference: string; image_digest: string; platform: string; advisory_db_built_at: Date | null; matched: boolean; match_keys: string[] | null; match_fingerprint: string | null;
  }>(
    // the page's ids first, then their keys: keys are read (detoasted) once, never sorted or dropped
    `WITH page AS (
       SELECT s.id FROM scans s
        WHERE s.status = 'done' AND s.id > $1 AND s.id <= $2 AND ($5::timestamptz IS NULL OR s.finished_at >= $5::timestamptz)
          AND NOT EXISTS (SELECT 1 FROM scans n
                           WHERE n.status = 'done' AND n.image_digest = s.image_digest AND n.platform = s.platform
                             AND (n.finished_at > s.finished_at OR (n.finished_at = s.finished_at AND n.id > s.id)))
        ORDER BY s.id
        LIMIT $3)
     SELECT s.id, s.reference, s.image_digest, s.platform, s.advisory_db_built_at,
            (s.advisory_db_built_at = $4::timestamptz OR EXISTS (SELECT 1 FROM scan_checks c WHERE c.scan_id = s.id AND c.advisory_db_built_at = $4::timestamptz)) AS matched,
            s.match_keys, s.match_fingerprint
       FROM page JOIN scans s ON s.id = page.id
      ORDER BY s.id`,
    [query.afterId, query.upToId, query.limit, query.advisoryDbBuiltAt, query.since ?? null],
  );
  const scans = rows.map((r) => ({
    id: Number(r.id), reference: r.reference, digest: r.image_digest, platform: r.platform, advisoryDbBuiltAt: r.advisory_db_built_at, matched: r.matched,
    match: r.match_keys && r.match_fingerprint ? { keys: r.match_keys, fingerprint: r.match_fingerprint } : null,
  }));
  return { scans, nextAfterId: scans.length === query.limit ? scans.at(-1)!.id : null };
}

/** The stored reports (JSON text) of these scans, by id. */
export async function storedReports(db: pg.Pool | pg.PoolClient, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; report: string }>('SELECT id, report::text AS report FROM scans WHERE id = ANY($1::bigint[])', [ids]);
  return new Map(rows.map((r) => [Number(r.id), r.report]));
}

/**
 * Records, in the caller's transaction, that these scans stand unchanged against the advisory DB built at `builtAt`
 * (their match fingerprint under it is the one they have). Returns the ids recorded: a scan another rematch checked
 * first is not among them.
 */
export async function recordChecks(client: pg.PoolClient, scanIds: readonly number[], builtAt: string): Promise<number[]> {
  if (scanIds.length === 0) return [];
  const { rows } = await client.query<{ scan_id: string }>(
    `INSERT INTO scan_checks (scan_id, advisory_db_built_at) SELECT unnest($1::bigint[]), $2::timestamptz
     ON CONFLICT DO NOTHING RETURNING scan_id`,
    [scanIds, builtAt],
  );
  return rows.map((r) => Number(r.scan_id));
}

/** A vulnerability or malicious-package advisory that a rematch added to an image or found no longer applying. */
export interface ChangeItem {
  /** `changed`: still applies, with another severity or fix (`previous` says which it had). */
  change: 'added' | 'removed' | 'changed';
  kind: 'vulnerability' | 'malicious-package';
  id: string;
  package: string;
  installedVersion: string;
  severity: string;
  fixedVersion: string | null;
  previous?: { severity: string; fixedVersion: string | null };
}

export interface VerdictState {
  malicious: boolean;
  categories: string[];
  summary: string;
}

/** What changed for one image between its previous scan and the rematch. */
export interface ImageChange {
  before: VerdictState;
  after: VerdictState;
  items: ChangeItem[];
}

/** One re-matched scan to record. */
export interface Rematched {
  /** The scan whose inventory was matched again. */
  sourceId: number;
  report: Report;
  /** `report` as the store keeps it (the JSON contract's text). */
  reportJson: string;
  /** Null when the image's result did not change. */
  change: ImageChange | null;
  /** The new scan's match keys and fingerprint; null when the report has none. */
  match: MatchSummary | null;
}

export interface RecordedRematch {
  sourceId: number;
  scanId: number;
}

/**
 * Records re-matched scans in the caller's transaction: each a new done scan with its normalised rows, and its
 * change rows when its result changed. A scan of the same image, versions and advisory DB already stored (another
 * rematch got there first) makes that one's row nothing: only the scans this call created are returned.
 */
export async function recordRematches(client: pg.PoolClient, rematched: readonly Rematched[]): Promise<RecordedRematch[]> {
  if (rematched.length === 0) return [];
  // each report its own parameter (the server validates it as json once, and takes nothing apart)
  const params: unknown[] = [];
  const values = rematched.map((r, n) => {
    const v = r.report.verdict;
    params.push(r.sourceId, r.report.tool.advisoryDb?.builtAt ?? null, v.malicious, v.categories, JSON.stringify(v.vulnerabilities), r.reportJson, r.match?.keys ?? null, r.match?.fingerprint ?? null);
    const p = n * 8;
    return `(${n}, $${p + 1}::bigint, $${p + 2}::timestamptz, $${p + 3}::boolean, $${p + 4}::text[], $${p + 5}::jsonb, $${p + 6}::json, $${p + 7}::text[], $${p + 8}::text)`;
  });
  const { rows } = await client.query<{ id: string; rematch_of: string }>(
    `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, sandbox, status,
                        timings, started_at, finished_at, malicious, categories, vulnerability_counts, report, rematch_of, inventory_of, match_keys, match_fingerprint)
     SELECT s.reference, s.image_digest, s.platform, s.tool_version, s.rules_digest, r.db, s.sandbox, 'done',
            '{}'::jsonb, now(), now(), r.malicious, r.categories, r.counts, r.report, s.id, COALESCE(s.inventory_of, s.id), r.keys, r.fingerprint
       FROM (VALUES ${values.join(', ')}) AS r(n, source, db, malicious, categories, counts, report, keys, fingerprint)
       JOIN scans s ON s.id = r.source
      ORDER BY r.n
     ON CONFLICT (image_digest, platform, tool_version, rules_digest, (COALESCE(advisory_db_built_at, '-infinity'::timestamptz)))
       WHERE status = 'done'
     DO NOTHING
     RETURNING id, rematch_of`,
    params,
  );
  const created = rows.map((r) => ({ sourceId: Number(r.rematch_of), scanId: Number(r.id) }));
  if (created.length === 0) return [];
  const bySource = new Map(rematched.map((r) => [r.sourceId, r]));
  // the packages are not copied: the new scan's inventory_of names the scan whose rows they are (scan_inventory)
  const vulnerabilities: unknown[] = [];
  const findings: unknown[] = [];
  const indicators: unknown[] = [];
  const changes: unknown[] = [];
  const items: unknown[] = [];
  for (const { sourceId, scanId } of created) {
    const r = bySource.get(sourceId)!;
    const normalised = reportRows(r.report);
    for (const v of normalised.vulnerabilities) vulnerabilities.push({ scan_id: scanId, ...v });
    for (const f of normalised.findings) findings.push({ scan_id: scanId, ...f });
    for (const i of normalised.indicators) indicators.push({ scan_id: scanId, ...i });
    if (!r.change) continue;
    const c = r.change;
    changes.push({
      scan_id: scanId, previous_scan_id: sourceId, db: r.report.tool.advisoryDb?.builtAt,
      malicious_before: c.before.malicious, malicious_after: c.after.malicious, categories_before: c.before.categories, categories_after: c.after.categories,
      summary_before: storableText(c.before.summary, SHOWN_TEXT_BYTES), summary_after: storableText(c.after.summary, SHOWN_TEXT_BYTES),
      added: c.items.filter((i) => i.change === 'added').length, removed: c.items.filter((i) => i.change === 'removed').length,
      changed: c.items.filter((i) => i.change === 'changed').length,
    });
    for (const i of c.items) {
      items.push({
        scan_id: scanId, change: i.change, kind: i.kind, id: storableText(i.id), package: storableText(i.package), installed_version: storableText(i.installedVersion),
        severity: i.severity, fixed_version: i.fixedVersion === null ? null : storableText(i.fixedVersion),
        previous_severity: i.previous?.severity ?? null, previous_fixed_version: i.previous?.fixedVersion == null ? null : storableText(i.previous.fixedVersion),
      });
    }
  }
  if (vulnerabilities.length > 0) {
    await client.query(
      `INSERT INTO scan_vulnerabilities (scan_id, id, aliases, package, installed_version, fixed_version, severity, purl)
       SELECT scan_id, id, aliases, package, installed_version, fixed_version, severity, purl
       FROM json_to_recordset($1::json) AS r(scan_id bigint, id text, aliases text[], package text, installed_version text, fixed_version text, severity text, purl text)`,
      [JSON.stringify(vulnerabilities)],
    );
  }
  if (findings.length > 0) {
    await client.query(
      `INSERT INTO scan_findings (scan_id, category, severity, source, rule, title, path, sha256)
       SELECT scan_id, category, severity, source, rule, title, path, sha256
       FROM json_to_recordset($1::json) AS r(scan_id bigint, category text, severity text, source text, rule text, title text, path text, sha256 text)`,
      [JSON.stringify(findings)],
    );
  }
  if (indicators.length > 0) {
    await client.query(
      `INSERT INTO scan_indicators (scan_id, kind, value)
       SELECT scan_id, kind, value FROM json_to_recordset($1::json) AS r(scan_id bigint, kind text, value text) ON CONFLICT DO NOTHING`,
      [JSON.stringify(indicators)],
    );
  }
  if (changes.length > 0) {
    await client.query(
      `INSERT INTO scan_changes (scan_id, previous_scan_id, image_digest, platform, reference, advisory_db_built_at, previous_advisory_db_built_at,
                                 malicious_before, malicious_after, categories_before, categories_after, summary_before, summary_after, added, removed, changed)
       SELECT r.scan_id, r.previous_scan_id, s.image_digest, s.platform, s.reference, r.db, p.advisory_db_built_at,
              r.malicious_before, r.malicious_after, r.categories_before, r.categories_after, r.summary_before, r.summary_after, r.added, r.removed, r.changed
         FROM json_to_recordset($1::json) AS r(scan_id bigint, previous_scan_id bigint, db timestamptz, malicious_before boolean, malicious_after boolean,
                                               categories_before text[], categories_after text[], summary_before text, summary_after text, added int, removed int,
                                               changed int)
         JOIN scans s ON s.id = r.scan_id JOIN scans p ON p.id = r.previous_scan_id`,
      [JSON.stringify(changes)],
    );
  }
  if (items.length > 0) {
    await client.query(
      `INSERT INTO scan_change_items (scan_id, change, kind, id, package, installed_version, severity, fixed_version, previous_severity, previous_fixed_version)
       SELECT scan_id, change, kind, id, package, installed_version, severity, fixed_version, previous_severity, previous_fixed_version
       FROM json_to_recordset($1::json) AS r(scan_id bigint, change text, kind text, id text, package text, installed_version text, severity text, fixed_version text,
                                             previous_severity text, previous_fixed_version text)`,
      [JSON.stringify(items)],
    );
  }
  return created;
}

/** One image's recorded change, as `rematch --list` shows it. */
export interface ListedChange {
  scanId: number;
  previousScanId: number | null;
  reference: string;
  digest: string;
  platform: string;
  advisoryDbBuiltAt: string;
  previousAdvisoryDbBuiltAt: string | null;
  before: VerdictState;
  after: VerdictState;
  added: ChangeItem[];
  removed: ChangeItem[];
  /** Vulnerabilities that still apply with another severity or fix. */
  changed: ChangeItem[];
  recordedAt: string;
}

export interface ChangeListing {
  /** The advisory DB build the listed changes were matched against (the newest one with changes); null: none recorded. */
  advisoryDbBuiltAt: string | null;
  /** Images whose result changed against that DB build. */
  total: number;
  changes: ListedChange[];
}

/**
 * The changes of the latest rematch: those recorded against the newest advisory DB build that has any, verdict
 * changes first (to malicious before from it), then by the number of items, then by scan id.
 */
export async function listLatestChanges(db: pg.Pool, limit: number): Promise<ChangeListing> {
  const newest = await db.query<{ built: Date | null; total: number }>(
    `SELECT advisory_db_built_at AS built, count(*) OVER ()::int AS total FROM scan_changes
      WHERE advisory_db_built_at = (SELECT max(advisory_db_built_at) FROM scan_changes) LIMIT 1`,
  );
  const built = newest.rows[0]?.built ?? null;
  if (!built) return { advisoryDbBuiltAt: null, total: 0, changes: [] };
  const { rows } = await db.query<{
    scan_id: string; previous_scan_id: string | null; reference: string; image_digest: string; platform: string; previous_advisory_db_built_at: Date | null;
    malicious_before: boolean; malicious_after: boolean; categories_before: string[]; categories_after: string[]; summary_before: string; summary_after: string;
    recorded_at: Date; items: ChangeItemRow[] | null;
  }>(
    `SELECT c.*, (SELECT json_agg(i ORDER BY i.change, i.kind DESC, i.severity, i.id, i.package) FROM scan_change_items i WHERE i.scan_id = c.scan_id) AS items
       FROM scan_changes c
      WHERE c.advisory_db_built_at = $1
      ORDER BY (c.malicious_before <> c.malicious_after) DESC, c.malicious_after DESC, (c.added + c.removed + c.changed) DESC, c.scan_id
      LIMIT $2`,
    [built, limit],
  );
  const item = (i: ChangeItemRow): ChangeItem => ({
    change: i.change, kind: i.kind, id: i.id, package: i.package, installedVersion: i.installed_version, severity: i.severity, fixedVersion: i.fixed_version,
    ...(i.change === 'changed' ? { previous: { severity: i.previous_severity ?? 'unknown', fixedVersion: i.previous_fixed_version } } : {}),
  });
  return {
    advisoryDbBuiltAt: built.toISOString(),
    total: newest.rows[0]!.total,
    changes: rows.map((r) => {
      const items = (r.items ?? []).map(item);
      return {
        scanId: Number(r.scan_id),
        previousScanId: r.previous_scan_id === null ? null : Number(r.previous_scan_id),
        reference: r.reference,
        digest: r.image_digest,
        platform: r.platform,
        advisoryDbBuiltAt: built.toISOString(),
        previousAdvisoryDbBuiltAt: r.previous_advisory_db_built_at?.toISOString() ?? null,
        before: { malicious: r.malicious_before, categories: r.categories_before, summary: r.summary_before },
        after: { malicious: r.malicious_after, categories: r.categories_after, summary: r.summary_after },
        added: items.filter((i) => i.change === 'added'),
        removed: items.filter((i) => i.change === 'removed'),
        changed: items.filter((i) => i.change === 'changed'),
        recordedAt: r.recorded_at.toISOString(),
      };
    }),
  };
}

interface ChangeItemRow {
  change: ChangeItem['change'];
  kind: ChangeItem['kind'];
  id: string;
  package: string;
  installed_version: string;
  severity: string;
  fixed_version: string | null;
  previous_severity: string | null;
  previous_fixed_version: string | null;
}

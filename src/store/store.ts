/**
 * The results store: every scan's report and verdict, why a scan failed or was skipped, and per-layer static
 * results, in PostgreSQL: a shared server (`--store postgres://…`) or Detonate's private cluster (`cluster.ts`).
 * One schema (`migrations/`), applied when a store is opened; every query here is parameterised SQL.
 */
import pg from 'pg';
import type { Report } from '../model/index.js';
import { orderReport } from '../report/json.js';
import { reportMatchSummary } from '../vuln/fingerprint.js';
import { LAYER_RESULT_FORMAT, type LayerResult } from '../analyze/runner.js';
import { toolVersion } from '../version.js';
import { PrivateCluster } from './cluster.js';
import { StoreError } from './errors.js';
import { analyzerKeyDigest, imageNameOf } from './keys.js';
import { ClusterLease } from './lease.js';
import { LEASE_LOCK, LOCK_SPACE } from './locks.js';
import { migrate, type MigrationResult } from './migrate.js';
import { reportRows, storableText } from './rows.js';
import { SHOWN_TEXT_BYTES, STORE_CONNECT_TIMEOUT_MS } from './limits.js';

export type StoreLocation = { kind: 'server'; url: string } | { kind: 'private'; root?: string };

/**
 * `--store VALUE`: `postgres://…` (or `postgresql://…`) names a shared server; `local`, or the option without a
 * value, the private cluster.
 */
export function parseStoreLocation(value: string | boolean): StoreLocation {
  if (value === true || value === 'local') return { kind: 'private' };
  if (typeof value === 'string' && /^postgres(ql)?:\/\//i.test(value)) return { kind: 'server', url: value };
  throw new StoreError(`--store takes postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (a shared server) or local (this machine's private store), not "${String(value)}"`);
}

/** A server URL without its password, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export interface ScanRecordMeta {
  /** `rulesDigest()` of what the verdict was judged by. */
  rulesDigest: string;
  startedAt?: Date;
  finishedAt?: Date;
  /** Milliseconds per step. */
  timings?: Record<string, number>;
  /** The sandbox the image ran in; default: the report's `behavior.sandbox`. */
  sandbox?: string | null;
  /** The repository's pull count, when the source knows it. */
  pullCount?: number | null;
  /**
   * `judgingDigest()` of the verdict rules and ignore entries: with it the scan keeps its match keys and fingerprint,
   * and a rematch can find it unchanged without reading its report (src/vuln/fingerprint.ts).
   */
  judgingDigest?: string;
}

/** An image a scan did not finish: the reference always, digest and platform once the image was resolved. */
export interface UnfinishedImage {
  reference: string;
  digest?: string;
  platform?: string;
}

export interface UnfinishedScanMeta {
  rulesDigest: string;
  toolVersion?: string;
  /** ISO date of the advisory DB's build, when one was in use. */
  advisoryDbBuiltAt?: string | null;
  sandbox?: string | null;
  startedAt?: Date;
  timings?: Record<string, number>;
}

/** What makes a done scan the same scan again (see the `scans_done_once` index). */
export interface DoneScanKey {
  digest: string;
  platform: string;
  rulesDigest: string;
  /** Default: this Detonate's version. */
  toolVersion?: string;
  /** The advisory DB's build date, or null when vulnerabilities were not matched against one. */
  advisoryDbBuiltAt: string | null;
  detonated?: boolean;
}

export interface StoreSummary {
  /** Where the data is: the private cluster's directory, or the server's URL without password. */
  location: string;
  serverVersion: string;
  schemaVersion: number;
  /** The database's size on disk. */
  bytes: number;
  images: number;
  scans: { done: number; failed: number; skipped: number };
  layerResults: number;
  /** Private cluster: how many Detonate processes hold a lease on it now. */
  leases?: number;
}

export interface OpenStoreOptions {
  /** Connections in the pool (default 4). */
  poolSize?: number;
}

/** Opens the store at `location`: for the private cluster, makes and starts it as needed; then migrates. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  const max = options.poolSize ?? 4;
  let lease: ClusterLease | undefined;
  let pool: pg.Pool;
  let description: string;
  if (location.kind === 'private') {
    const cluster = await PrivateCluster.locate(location.root);
    lease = await ClusterLease.acquire(cluster);
    pool = new pg.Pool({ ...cluster.connection(), application_name: 'detonate', max, connectionTimeoutMillis: STORE_CONNECT_TIMEOUT_MS });
    description = `private store in ${cluster.root}`;
  } else {
    pool = new pg.Pool({ connectionString: location.url, application_name: 'detonate', max, connectionTimeoutMillis: STORE_CONNECT_TIMEOUT_MS });
    description = describeUrl(location.url);
  }
  pool.on('error', () => {}); // an idle connection that breaks: the next query on the pool reports it
  try {
    const schema = await migrate(pool).catch((err: unknown) => {
      if (err instanceof StoreError || location.kind === 'private') throw err;
      throw new StoreError(`cannot use the store at ${description}: ${(err as Error).message}`, 'check the URL, that the server runs, and that it admits this user', { cause: err });
    });
    return new Store(pool, description, schema, lease);
  } catch (err) {
    await pool.end().catch(() => {});
    await lease?.release().catch(() => {});
    throw err;
  }
}

type Queryable = pg.Pool | pg.PoolClient;

export class Store {
  /** @internal use `openStore` */
  constructor(
    /** The connection pool, for the queue and the steps that build on the store. */
    readonly pool: pg.Pool,
    /** Where the data is (for messages). */
    readonly location: string,
    readonly schema: MigrationResult,
    private readonly lease?: ClusterLease,
  ) {}

  /** Runs `fn` in one transaction on one connection: committed when it returns, rolled back when it throws. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Records a finished scan: its report (exactly as the JSON contract writes it), its verdict, and its normalised
   * rows, in one transaction. Idempotent: a scan of the same image digest and platform with the same tool version,
   * rules and advisory DB replaces the one stored before. Returns the scan's id and whether it is a new row.
   */
  recordScan(report: Report, meta: ScanRecordMeta, db?: pg.PoolClient): Promise<{ scanId: number; created: boolean }> {
    const run = async (client: pg.PoolClient) => {
      const image = report.image;
      await upsertImage(client, image.reference, image.digest, image.platform, meta.pullCount ?? null);
      const behavior = report.behavior;
      const sandbox = meta.sandbox !== undefined ? meta.sandbox : behavior && 'sandbox' in behavior ? behavior.sandbox : null;
      const match = meta.judgingDigest && report.tool.advisoryDb ? reportMatchSummary(report, meta.judgingDigest) : null;
      const { rows } = await client.query<{ id: string; created: boolean }>(
        `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, sandbox, status,
                            timings, started_at, finished_at, malicious, categories, vulnerability_counts, report, match_keys, match_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'done', $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (image_digest, platform, tool_version, rules_digest, (COALESCE(advisory_db_built_at, '-infinity'::timestamptz)))
           WHERE status = 'done'
         DO UPDATE SET reference = EXCLUDED.reference, sandbox = EXCLUDED.sandbox, timings = EXCLUDED.timings,
                       started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, malicious = EXCLUDED.malicious,
                       categories = EXCLUDED.categories, vulnerability_counts = EXCLUDED.vulnerability_counts, report = EXCLUDED.report,
                       rematch_of = NULL, inventory_of = NULL, match_keys = EXCLUDED.match_keys, match_fingerprint = EXCLUDED.match_fingerprint
         RETURNING id, (xmax = 0) AS created`,
        [
          storableText(image.reference, SHOWN_TEXT_BYTES), image.digest, image.platform, report.tool.version, meta.rulesDigest,
          report.tool.advisoryDb?.builtAt ?? null, sandbox, JSON.stringify(meta.timings ?? {}), meta.startedAt ?? null,
          meta.finishedAt ?? new Date(), report.verdict.malicious, report.verdict.categories, JSON.stringify(report.verdict.vulnerabilities),
          JSON.stringify(orderReport(report)), match?.keys ?? null, match?.fingerprint ?? null,
        ],
      );
      const scanId = Number(rows[0]!.id);
      const created = rows[0]!.created;
      if (!created) {
        for (const table of ['scan_packages', 'scan_vulnerabilities', 'scan_findings', 'scan_indicators', 'scan_layers', 'scan_checks']) {
          await client.query(`DELETE FROM ${table} WHERE scan_id = $1`, [scanId]);
        }
      }
      await insertRows(client, scanId, report);
      return { scanId, created };
    };
    return db ? run(db) : this.transaction(run);
  }

  /** Records a scan that could not be done: which stage stopped and why. It has no report and no verdict. */
  recordFailedScan(image: UnfinishedImage, stage: string, reason: string, meta: UnfinishedScanMeta, db?: Queryable): Promise<number> {
    return this.recordUnfinished('failed', image, meta, reason, stage, db);
  }

  /** Records a scan that was not attempted on purpose (too large, excluded), with the reason. */
  recordSkippedScan(image: UnfinishedImage, reason: string, meta: UnfinishedScanMeta, db?: Queryable): Promise<number> {
    return this.recordUnfinished('skipped', image, meta, reason, null, db);
  }

  private async recordUnfinished(status: 'failed' | 'skipped', image: UnfinishedImage, meta: UnfinishedScanMeta, reason: string, stage: string | null, db?: Queryable): Promise<number> {
    const run = async (client: Queryable) => {
      if (image.digest && image.platform) await upsertImage(client, image.reference, image.digest, image.platform, null);
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO scans (reference, image_digest, platform, tool_version, rules_digest, advisory_db_built_at, sandbox, status,
                            failed_stage, reason, timings, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
        [
          storableText(image.reference, SHOWN_TEXT_BYTES), image.digest ?? null, image.platform ?? null, meta.toolVersion ?? toolVersion(),
          meta.rulesDigest, meta.advisoryDbBuiltAt ?? null, meta.sandbox ?? null, status, stage === null ? null : storableText(stage),
          storableText(reason, SHOWN_TEXT_BYTES), JSON.stringify(meta.timings ?? {}), meta.startedAt ?? null,
        ],
      );
      return Number(rows[0]!.id);
    };
    return db ? run(db) : this.transaction(run);
  }

  /**
   * The id of a done scan of this image (digest and platform) made with these versions, or null: the scan a job for
   * another tag of the same image can link to instead of scanning again. `detonated`: only a scan that ran the image.
   * A scan a rematch checked against this advisory DB (scan_checks) counts as made with it.
   */
  async findDoneScan(key: DoneScanKey, db?: Queryable): Promise<number | null> {
    const { rows } = await (db ?? this.pool).query<{ id: string }>(
      `SELECT id FROM scans WHERE status = 'done' AND image_digest = $1 AND platform = $2 AND tool_version = $3 AND rules_digest = $4
         AND (advisory_db_built_at IS NOT DISTINCT FROM $5::timestamptz
              OR EXISTS (SELECT 1 FROM scan_checks c WHERE c.scan_id = scans.id AND c.advisory_db_built_at = $5::timestamptz))
         AND ($6::boolean IS NOT TRUE OR sandbox IS NOT NULL)
       ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [key.digest, key.platform, key.toolVersion ?? toolVersion(), key.rulesDigest, key.advisoryDbBuiltAt || null, key.detonated ?? false],
    );
    return rows[0] ? Number(rows[0].id) : null;
  }

  /** Records that `reference` (a tag) names this image now, without a scan of its own (its digest's scan stands). */
  async linkImage(reference: string, digest: string, platform: string, pullCount: number | null, db?: Queryable): Promise<void> {
    await upsertImage(db ?? this.pool, reference, digest, platform, pullCount);
  }

  /** The report of the newest done scan of an image (digest and platform), or null when it has none. */
  async getLatestReport(digest: string, platform: string): Promise<Report | null> {
    const { rows } = await this.pool.query<{ report: string }>(
      `SELECT report::text AS report FROM scans WHERE status = 'done' AND image_digest = $1 AND platform = $2
       ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [digest, platform],
    );
    return rows[0] ? (JSON.parse(rows[0].report) as Report) : null;
  }

  /** A layer's stored static result for these analyzers, or null. */
  async getLayerResult(diffId: string, analyzerKey: string): Promise<LayerResult | null> {
    const { rows } = await this.pool.query<{ result: string }>(
      'SELECT result::text AS result FROM layer_results WHERE diff_id = $1 AND analyzer_key_digest = $2',
      [diffId, analyzerKeyDigest(LAYER_RESULT_FORMAT, analyzerKey)],
    );
    if (!rows[0]) return null;
    const result = JSON.parse(rows[0].result) as LayerResult;
    return result.format === LAYER_RESULT_FORMAT && result.diffId === diffId && result.analyzerKey === analyzerKey ? result : null;
  }

  /**
   * Stores a layer's complete static result (the first one stored for a layer and analyzers stays). A result of a
   * layer whose walk stopped on a limit is partial and not stored, as in the on-disk layer cache.
   */
  async putLayerResult(result: LayerResult, db?: Queryable): Promise<boolean> {
    if (result.notices.some((n) => n.level === 'error')) return false;
    const { rowCount } = await (db ?? this.pool).query(
      `INSERT INTO layer_results (diff_id, analyzer_key_digest, analyzer_key, format, result) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [result.diffId, analyzerKeyDigest(result.format, result.analyzerKey), result.analyzerKey, result.format, JSON.stringify(result)],
    );
    return rowCount === 1;
  }

  /** The diffID a worker's walk found for the layer blob `blobDigest`, if one did. */
  async layerDiffIdOf(blobDigest: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ diff_id: string }>('SELECT diff_id FROM layer_blobs WHERE blob_digest = $1', [blobDigest]);
    return rows[0]?.diff_id;
  }

  /** Records what a complete walk verified: the blob `blobDigest` decompresses to the tar `diffId`. */
  async recordLayerBlob(blobDigest: string, diffId: string): Promise<void> {
    await this.pool.query('INSERT INTO layer_blobs (blob_digest, diff_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [blobDigest, diffId]);
  }

  /** What `detonate store status` shows. */
  async summary(): Promise<StoreSummary> {
    const { rows } = await this.pool.query<{
      version: string; bytes: string; images: number; done: number; failed: number; skipped: number; layers: number; leases: number;
    }>(
      `SELECT current_setting('server_version') AS version, pg_database_size(current_database()) AS bytes,
              (SELECT count(*) FROM images)::int AS images,
              (SELECT count(*) FROM scans WHERE status = 'done')::int AS done,
              (SELECT count(*) FROM scans WHERE status = 'failed')::int AS failed,
              (SELECT count(*) FROM scans WHERE status = 'skipped')::int AS skipped,
              (SELECT count(*) FROM layer_results)::int AS layers,
              (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted)::int AS leases`,
      [LOCK_SPACE_OID, LEASE_LOCK_OID],
    );
    const r = rows[0]!;
    return {
      location: this.location,
      serverVersion: r.version,
      schemaVersion: this.schema.version,
      bytes: Number(r.bytes),
      images: r.images,
      scans: { done: r.done, failed: r.failed, skipped: r.skipped },
      layerResults: r.layers,
      ...(this.lease ? { leases: r.leases } : {}),
    };
  }

  /**
   * Closes the connections. On the private cluster, gives this process's lease back, and stops the server when it
   * was the last one (and `store start` did not pin it). True when this call stopped the server.
   */
  async close(): Promise<boolean> {
    await this.pool.end();
    return (await this.lease?.release()) ?? false;
  }
}

/** pg_locks shows the two keys as oid columns. */
const LOCK_SPACE_OID = String(LOCK_SPACE);
const LEASE_LOCK_OID = String(LEASE_LOCK);

async function upsertImage(client: Queryable, reference: string, digest: string, platform: string, pullCount: number | null): Promise<void> {
  const name = imageNameOf(reference);
  await client.query(
    `INSERT INTO images (registry, repository, tag, platform, digest, pull_count) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (registry, repository, tag, platform)
     DO UPDATE SET digest = EXCLUDED.digest, last_seen = now(), pull_count = COALESCE(EXCLUDED.pull_count, images.pull_count)`,
    [name.registry, name.repository, name.tag, platform, digest, pullCount],
  );
}

/** The normalised rows, one statement per table (a JSON array unpacked by the server). */
async function insertRows(client: Queryable, scanId: number, report: Report): Promise<void> {
  const rows = reportRows(report);
  if (rows.packages.length > 0) {
    await client.query(
      `INSERT INTO scan_packages (scan_id, name, version, type, purl, layer)
       SELECT $1, name, version, type, purl, layer FROM json_to_recordset($2::json) AS r(name text, version text, type text, purl text, layer int)`,
      [scanId, JSON.stringify(rows.packages)],
    );
  }
  if (rows.vulnerabilities.length > 0) {
    await client.query(
      `INSERT INTO scan_vulnerabilities (scan_id, id, aliases, package, installed_version, fixed_version, severity, purl)
       SELECT $1, id, aliases, package, installed_version, fixed_version, severity, purl
       FROM json_to_recordset($2::json) AS r(id text, aliases text[], package text, installed_version text, fixed_version text, severity text, purl text)`,
      [scanId, JSON.stringify(rows.vulnerabilities)],
    );
  }
  if (rows.findings.length > 0) {
    await client.query(
      `INSERT INTO scan_findings (scan_id, category, severity, source, rule, title, path, sha256)
       SELECT $1, category, severity, source, rule, title, path, sha256
       FROM json_to_recordset($2::json) AS r(category text, severity text, source text, rule text, title text, path text, sha256 text)`,
      [scanId, JSON.stringify(rows.findings)],
    );
  }
  if (rows.indicators.length > 0) {
    await client.query(
      `INSERT INTO scan_indicators (scan_id, kind, value)
       SELECT $1, kind, value FROM json_to_recordset($2::json) AS r(kind text, value text) ON CONFLICT DO NOTHING`,
      [scanId, JSON.stringify(rows.indicators)],
    );
  }
  if (rows.layers.length > 0) {
    await client.query(
      `INSERT INTO scan_layers (scan_id, layer, diff_id, malicious)
       SELECT $1, layer, diff_id, malicious FROM json_to_recordset($2::json) AS r(layer int, diff_id text, malicious boolean) ON CONFLICT DO NOTHING`,
      [scanId, JSON.stringify(rows.layers)],
    );
  }
}

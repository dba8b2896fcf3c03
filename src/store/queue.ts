/**
 * The scan queue: pg-boss 10 in the results store's own database (its tables in the schema `pgboss`), on the
 * store's connection pool. Queue and results live in one database, so a worker records an image's result and
 * completes its job in one transaction of the store: a worker killed at any moment loses nothing and records
 * nothing twice.
 *
 *   const queue = await ScanQueue.open(store);
 *   await queue.enqueue([scanJobFor('ghcr.io/o/app:1.0', { staticOnly: true })]);
 *   const [job] = await queue.fetch('static', 1);
 *   await store.transaction(async (client) => {
 *     await store.recordScan(report, meta, client);
 *     if (!(await queue.complete(job, client))) throw new Error('the job is no longer ours');   // rolls back
 *   });
 *
 * Queues: `scan_static` (jobs any worker can do) and `scan_detonate` (jobs that need a sandbox: only workers
 * that have one fetch them); a job that used up its retries is copied by pg-boss into `scan_dead`, the
 * dead-letter queue nobody fetches: `deadLetters` lists it, `retryDead` puts jobs back. The queues use pg-boss's
 * `short` policy: one queued job per singleton key (the reference and platform), so enqueueing an image again
 * while it waits adds nothing.
 *
 * A worker's hold on a job (its lease) is the job's id and its retry count, which pg-boss raises each time the job
 * is fetched again after a start: a worker whose lease expired, or whose job was cancelled or released, finds that
 * it no longer holds the job and records nothing. Heartbeats push the expiry forward while a scan runs. Reads and
 * the lease checks use pg-boss 10's tables (`pgboss.job`, `pgboss.archive`) directly; the version is pinned.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { DEFAULT_DETONATE_TIMEOUT_MS } from '../detonate/limits.js';
import { parseImageRef } from '../image/ref.js';
import { StoreError } from './errors.js';
import { DEFAULT_QUEUE_RETRY_SETTINGS, MAX_DEAD_LETTERS_LISTED, QUEUE_INITIAL_LEASE_SECONDS, type RetrySettings } from './limits.js';
import { imageNameOf } from './keys.js';
import type { Store } from './store.js';

export type { RetrySettings } from './limits.js';

/** One image to scan. What a crawl enqueues and a worker runs. */
export interface ScanJob {
  /** The image as `detonate scan` takes it; `scanJobFor` normalises it (`docker.io/library/nginx:latest`). */
  reference: string;
  /** `os/arch[/variant]`, or `all`; absent: the worker's own platform. */
  platform?: string;
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000` (for a local archive: its transport); the rate-limit bucket. */
  registry: string;
  repository: string;
  /** '' when named by digest only. */
  tag: string;
  /** The digest the source listed, when it knows it. */
  digest?: string;
  /** The repository's pull count, when the source knows it (kept with the image). */
  pullCount?: number;
  /** Static analysis only; false: the job goes to workers with a sandbox. */
  staticOnly: boolean;
  /** Wall-clock budget of the run in the sandbox. */
  detonateTimeoutMs: number;
  /** An image whose layers add up to more (compressed, as the manifest says) is recorded as skipped, not pulled. */
  maxImageSizeBytes?: number;
  /** The crawl source that enqueued it (`registry:HOST`, `file:refs.txt` …). */
  crawl?: string;
}

export type QueueKind = 'static' | 'detonate';

export const QUEUE_NAMES: Readonly<Record<QueueKind, string>> = Object.freeze({ static: 'scan_static', detonate: 'scan_detonate' });
export const DEAD_LETTER_QUEUE = 'scan_dead';
const SCAN_QUEUES = [QUEUE_NAMES.static, QUEUE_NAMES.detonate];
const ALL_QUEUES = [...SCAN_QUEUES, DEAD_LETTER_QUEUE];

/** Jobs per insert (one transaction each). */
const ENQUEUE_BATCH = 1000;

export interface EnqueueOptions extends Partial<RetrySettings> {
  /**
   * Higher runs first (pg-boss priority, a 32-bit integer), for all the jobs or per job (e.g. from the pull count's
   * logarithm); default 0. Among equal priorities, jobs run in the order they were enqueued, also within one call.
   */
  priority?: number | ((job: ScanJob) => number);
  /** Not before this time. */
  startAfter?: Date;
  /**
   * Enqueue in the caller's transaction (`client` from `store.transaction`), e.g. with a crawl's cursor, so that both
   * or neither are committed. Without it, each batch of 1,000 jobs is a transaction of its own.
   */
  client?: pg.PoolClient;
}

export interface EnqueueResult {
  /** New jobs. */
  enqueued: number;
  /** Jobs left out because the same reference and platform was already waiting. */
  alreadyQueued: number;
}

/** A job a worker holds. */
export interface LeasedJob {
  id: string;
  queue: string;
  data: ScanJob;
  /** 0 on the first attempt; with the id, what the worker's hold on the job is checked by. */
  retryCount: number;
  retryLimit: number;
  retryDelaySeconds: number;
}

export interface DeadJob {
  /** The dead-letter job's id (what `retryDead` and `cancel` take). */
  id: string;
  job: ScanJob;
  /** Why its last attempt failed. */
  error: string;
  stage: string | null;
  failedAt: Date;
}

export interface QueueCounts {
  /** Waiting to be fetched (created or waiting for a retry), `later` of them not before some time. */
  queued: number;
  later: number;
  running: number;
  /** In the dead-letter queue. */
  dead: number;
  cancelled: number;
  byKind: Record<QueueKind, { queued: number; running: number }>;
}

export interface QueueRates {
  /** Jobs finished (scanned, linked to a scan of the same digest, skipped, or recorded as failed). */
  lastMinute: number;
  lastHour: number;
}

export interface CancelFilter {
  ids?: readonly string[];
  registry?: string;
  /** Every queued and running job. */
  all?: boolean;
}

export interface QueueOpenOptions {
  /**
   * Run pg-boss's maintenance from this process every so many seconds: expiring the jobs of workers that stopped
   * heartbeating (they are retried), archiving old jobs. Workers do; commands that only enqueue or read do not.
   */
  maintenanceIntervalSeconds?: number;
  /** pg-boss's background errors (maintenance while the server is away); default: ignored. */
  onError?: (error: Error) => void;
}

type Queryable = pg.Pool | pg.PoolClient;

/** pg-boss runs its SQL through this (its own pool is never made). */
function bossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

/** `reference` as a job: registry, repository and tag from the reference (normalised), the rest from `options`. */
export function scanJobFor(reference: string, options: Partial<Omit<ScanJob, 'reference' | 'registry' | 'repository' | 'tag'>> = {}): ScanJob {
  let normalised = reference;
  if (!/^(docker-archive|oci-archive|oci):/.test(reference)) normalised = parseImageRef(reference).toString();
  const name = imageNameOf(normalised);
  return {
    reference: normalised,
    registry: name.registry,
    repository: name.repository,
    tag: name.tag,
    staticOnly: options.staticOnly ?? false,
    detonateTimeoutMs: options.detonateTimeoutMs ?? DEFAULT_DETONATE_TIMEOUT_MS,
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    ...(options.digest !== undefined ? { digest: options.digest } : {}),
    ...(options.pullCount !== undefined ? { pullCount: options.pullCount } : {}),
    ...(options.maxImageSizeBytes !== undefined ? { maxImageSizeBytes: options.maxImageSizeBytes } : {}),
    ...(options.crawl !== undefined ? { crawl: options.crawl } : {}),
  };
}

function checkScanJob(job: ScanJob): ScanJob {
  const problem =
    typeof job.reference !== 'string' || job.reference === '' ? 'no reference'
      : typeof job.registry !== 'string' || typeof job.repository !== 'string' || typeof job.tag !== 'string' ? 'no registry, repository or tag'
        : typeof job.staticOnly !== 'boolean' ? 'staticOnly is not a boolean'
          : !Number.isInteger(job.detonateTimeoutMs) || job.detonateTimeoutMs <= 0 ? 'detonateTimeoutMs is not a positive integer'
            : job.maxImageSizeBytes !== undefined && !(job.maxImageSizeBytes > 0) ? 'maxImageSizeBytes is not positive'
              : undefined;
  if (problem) throw new StoreError(`cannot enqueue ${JSON.stringify(job.reference)}: ${problem}`);
  return job;
}

export function queueOf(job: Pick<ScanJob, 'staticOnly'>): string {
  return job.staticOnly ? QUEUE_NAMES.static : QUEUE_NAMES.detonate;
}

/** One queued job per image and platform. */
function singletonKeyOf(job: ScanJob): string {
  return `${job.reference}\n${job.platform ?? ''}`;
}

/**
 * Job ids that sort in the order they are made (a UUIDv7: milliseconds, then a counter, then random bits): pg-boss
 * takes the oldest job first by its creation time, which is one for a whole insert, and then by id.
 */
let lastIdMs = 0;
let idCounter = 0;
export function orderedJobId(now = Date.now()): string {
  if (now > lastIdMs) {
    lastIdMs = now;
    idCounter = 0;
  } else if (++idCounter > 0xfff) {
    lastIdMs++;
    idCounter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastIdMs, 0, 6);
  bytes.writeUInt16BE(0x7000 | idCounter, 6);
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function insertRow(job: ScanJob, settings: RetrySettings, options: Pick<EnqueueOptions, 'priority' | 'startAfter'> = {}): PgBoss.JobInsert<ScanJob> & { id: string } {
  const priority = typeof options.priority === 'function' ? options.priority(job) : options.priority;
  return {
    id: orderedJobId(),
    name: queueOf(job),
    data: job,
    singletonKey: singletonKeyOf(job),
    retryLimit: settings.retryLimit,
    retryDelay: settings.retryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: QUEUE_INITIAL_LEASE_SECONDS,
    deadLetter: DEAD_LETTER_QUEUE,
    ...(priority !== undefined ? { priority: Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(priority))) } : {}),
    ...(options.startAfter ? { startAfter: options.startAfter.toISOString() } : {}),
  };
}

interface JobRow {
  id: string;
  data: ScanJob;
  output: { message?: string; stage?: string; value?: { message?: string } } | null;
  completed_on: Date | null;
  created_on: Date;
}

export class ScanQueue {
  private constructor(
    private readonly store: Store,
    private readonly boss: PgBoss,
  ) {}

  /** pg-boss's schema is made or migrated on first use; the queues are made if missing. */
  static async open(store: Store, options: QueueOpenOptions = {}): Promise<ScanQueue> {
    const interval = options.maintenanceIntervalSeconds;
    const boss = new PgBoss({
      db: bossDb(store.pool),
      migrate: true,
      schedule: false,
      supervise: interval !== undefined,
      ...(interval !== undefined ? { maintenanceIntervalSeconds: Math.max(1, Math.round(interval)) } : {}),
    });
    boss.on('error', (err: Error) => options.onError?.(err));
    try {
      await boss.start();
      const settings = { retryLimit: DEFAULT_QUEUE_RETRY_SETTINGS.retryLimit, retryDelay: DEFAULT_QUEUE_RETRY_SETTINGS.retryDelaySeconds, retryBackoff: true, expireInSeconds: QUEUE_INITIAL_LEASE_SECONDS };
      await boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE, policy: 'standard' });
      for (const name of SCAN_QUEUES) await boss.createQueue(name, { name, policy: 'short', deadLetter: DEAD_LETTER_QUEUE, ...settings });
    } catch (err) {
      await boss.stop({ graceful: false, close: false }).catch(() => {});
      throw new StoreError(`cannot open the scan queue in ${store.location}: ${(err as Error).message}`);
    }
    return new ScanQueue(store, boss);
  }

  /**
   * Adds jobs, in batches of 1,000 (each batch one transaction). A job whose reference and platform is already
   * waiting in its queue is left out (counted in `alreadyQueued`); a running or finished one does not count, so
   * an image can be enqueued again to be scanned again.
   */
  async enqueue(jobs: readonly ScanJob[], options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const settings = { ...DEFAULT_QUEUE_RETRY_SETTINGS, ...definedOnly(options) };
    let enqueued = 0;
    for (let i = 0; i < jobs.length; i += ENQUEUE_BATCH) {
      const rows = jobs.slice(i, i + ENQUEUE_BATCH).map((job) => insertRow(checkScanJob(job), settings, options));
      const insert = async (client: pg.PoolClient) => {
        await this.boss.insert(rows, { db: bossDb(client) });
        return countJobs(client, rows.map((r) => r.id));
      };
      enqueued += options.client ? await insert(options.client) : await this.store.transaction(insert);
    }
    return { enqueued, alreadyQueued: jobs.length - enqueued };
  }

  /** Takes up to `limit` jobs of one queue (oldest first, by priority); empty when there is none, or on an error. */
  async fetch(kind: QueueKind, limit: number): Promise<LeasedJob[]> {
    const jobs = await this.boss.fetch<ScanJob>(QUEUE_NAMES[kind], { batchSize: limit, includeMetadata: true });
    return jobs.map((j) => ({ id: j.id, queue: j.name, data: j.data, retryCount: j.retryCount, retryLimit: j.retryLimit, retryDelaySeconds: j.retryDelay }));
  }

  /** Whether this worker still holds `job`; in a transaction, locks the job until it ends (no expiry in between). */
  async holds(job: LeasedJob, db: Queryable = this.store.pool): Promise<boolean> {
    const { rowCount } = await db.query(
      `SELECT 1 FROM pgboss.job WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3 FOR UPDATE`,
      [job.queue, job.id, job.retryCount],
    );
    return rowCount === 1;
  }

  /**
   * Claims the image (digest and platform) for `job` while it scans it. False when another job that is running now
   * holds the claim: that job's scan will be stored, and this one should wait for it and link to it. A claim lapses
   * when its job stops running (completed, failed, released, expired), and is dropped when it completes.
   */
  async claim(job: LeasedJob, digest: string, platform: string): Promise<boolean> {
    const { rowCount } = await this.store.pool.query(
      `INSERT INTO scan_claims AS c (image_digest, platform, job_id, job_retry_count) VALUES ($1, $2, $3, $4)
       ON CONFLICT (image_digest, platform) DO UPDATE SET job_id = EXCLUDED.job_id, job_retry_count = EXCLUDED.job_retry_count, claimed_at = now()
       WHERE c.job_id = EXCLUDED.job_id OR NOT EXISTS (
         SELECT 1 FROM pgboss.job j WHERE j.name = ANY($5) AND j.id = c.job_id AND j.state = 'active' AND j.retry_count = c.job_retry_count)`,
      [digest, platform, job.id, job.retryCount, SCAN_QUEUES],
    );
    return rowCount === 1;
  }

  /** Keeps `job` taken for `leaseSeconds` more. False when the worker no longer holds it (expired, cancelled, released). */
  async heartbeat(job: LeasedJob, leaseSeconds: number): Promise<boolean> {
    const { rowCount } = await this.store.pool.query(
      `UPDATE pgboss.job SET expire_in = (now() - started_on) + $4 * interval '1 second'
       WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
      [job.queue, job.id, job.retryCount, leaseSeconds],
    );
    return rowCount === 1;
  }

  /**
   * Completes `job` in the caller's transaction (`client` from `store.transaction`). False when the worker no
   * longer holds it: the caller must then roll back what it recorded (throw).
   */
  async complete(job: LeasedJob, client: pg.PoolClient, output?: Record<string, unknown>): Promise<boolean> {
    if (!(await this.holds(job, client))) return false;
    await this.boss.complete(job.queue, job.id, output ?? {}, { db: bossDb(client) });
    await dropClaims(client, job);
    return true;
  }

  /**
   * Fails an attempt: the job is retried after its backoff, or, when its retries are used up, goes to the
   * dead-letter queue. `lost` when the worker no longer held it.
   */
  async fail(job: LeasedJob, error: { message: string; stage?: string }): Promise<'retry' | 'dead' | 'lost'> {
    return this.store.transaction(async (client) => {
      if (!(await this.holds(job, client))) return 'lost';
      await this.boss.fail(job.queue, job.id, { message: error.message, ...(error.stage ? { stage: error.stage } : {}) }, { db: bossDb(client) });
      await dropClaims(client, job);
      const { rows } = await client.query<{ state: string }>('SELECT state::text AS state FROM pgboss.job WHERE name = $1 AND id = $2', [job.queue, job.id]);
      return rows[0]?.state === 'retry' ? 'retry' : 'dead';
    });
  }

  /**
   * Gives `job` back without counting an attempt: it is replaced by a fresh queued copy (not before `startAfter`),
   * which any worker may take. For a worker stopping, or an image whose registry is paused. False when the worker
   * no longer held it.
   */
  async release(job: LeasedJob, startAfter?: Date): Promise<boolean> {
    return this.store.transaction(async (client) => {
      if (!(await this.holds(job, client))) return false;
      await this.boss.deleteJob(job.queue, job.id, { db: bossDb(client) });
      await dropClaims(client, job);
      const settings = { retryLimit: job.retryLimit, retryDelaySeconds: job.retryDelaySeconds };
      await this.boss.insert([insertRow(job.data, settings, startAfter ? { startAfter } : {})], { db: bossDb(client) });
      return true;
    });
  }

  /** Jobs waiting or running in the queues of these kinds: a draining worker stops when there are none. */
  async pending(kinds: readonly QueueKind[]): Promise<number> {
    const { rows } = await this.store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry', 'active')`,
      [kinds.map((k) => QUEUE_NAMES[k])],
    );
    return rows[0]!.n;
  }

  async counts(): Promise<QueueCounts> {
    const { rows } = await this.store.pool.query<{ name: string; state: string; n: number; later: number }>(
      `SELECT name, state::text AS state, count(*)::int AS n, count(*) FILTER (WHERE start_after > now())::int AS later
       FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry', 'active', 'cancelled') GROUP BY name, state`,
      [ALL_QUEUES],
    );
    const counts: QueueCounts = { queued: 0, later: 0, running: 0, dead: 0, cancelled: 0, byKind: { static: { queued: 0, running: 0 }, detonate: { queued: 0, running: 0 } } };
    for (const r of rows) {
      if (r.name === DEAD_LETTER_QUEUE) {
        if (r.state === 'created' || r.state === 'retry') counts.dead += r.n;
        continue;
      }
      const kind: QueueKind = r.name === QUEUE_NAMES.static ? 'static' : 'detonate';
      if (r.state === 'active') {
        counts.running += r.n;
        counts.byKind[kind].running += r.n;
      } else if (r.state === 'cancelled') {
        counts.cancelled += r.n;
      } else {
        counts.queued += r.n;
        counts.later += r.later;
        counts.byKind[kind].queued += r.n;
      }
    }
    return counts;
  }

  /** Jobs finished in the last minute and hour (whatever the outcome: scanned, linked, skipped, failed scan). */
  async rates(): Promise<QueueRates> {
    const { rows } = await this.store.pool.query<{ minute: number; hour: number }>(
      `SELECT count(*) FILTER (WHERE completed_on > now() - interval '1 minute')::int AS minute, count(*)::int AS hour FROM (
         SELECT completed_on FROM pgboss.job WHERE name = ANY($1) AND state = 'completed' AND completed_on > now() - interval '1 hour'
         UNION ALL
         SELECT completed_on FROM pgboss.archive WHERE name = ANY($1) AND state = 'completed' AND completed_on > now() - interval '1 hour'
       ) finished`,
      [SCAN_QUEUES],
    );
    return { lastMinute: rows[0]!.minute, lastHour: rows[0]!.hour };
  }

  /** The dead-letter queue, oldest first. */
  async deadLetters(limit: number = MAX_DEAD_LETTERS_LISTED): Promise<DeadJob[]> {
    const { rows } = await this.store.pool.query<JobRow>(
      `SELECT id, data, output, completed_on, created_on FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry')
       ORDER BY created_on, id LIMIT $2`,
      [DEAD_LETTER_QUEUE, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      job: r.data,
      error: r.output?.message ?? r.output?.value?.message ?? 'unknown',
      stage: r.output?.stage ?? null,
      failedAt: r.created_on,
    }));
  }

  /** Puts dead-letter jobs (these ids, or all) back in their queues with fresh retries. */
  async retryDead(ids?: readonly string[]): Promise<EnqueueResult & { notFound: number }> {
    return this.store.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; data: ScanJob }>(
        `SELECT id, data FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
         FOR UPDATE SKIP LOCKED`,
        [DEAD_LETTER_QUEUE, ids ? [...ids] : null],
      );
      if (rows.length === 0) return { enqueued: 0, alreadyQueued: 0, notFound: ids?.length ?? 0 };
      const inserts = rows.map((r) => insertRow(r.data, DEFAULT_QUEUE_RETRY_SETTINGS));
      await this.boss.insert(inserts, { db: bossDb(client) });
      await this.boss.deleteJob(DEAD_LETTER_QUEUE, rows.map((r) => r.id), { db: bossDb(client) });
      const enqueued = await countJobs(client, inserts.map((r) => r.id));
      return { enqueued, alreadyQueued: rows.length - enqueued, notFound: (ids?.length ?? rows.length) - rows.length };
    });
  }

  /**
   * Cancels queued and running jobs (by id, of a registry, or all) and drops dead-letter jobs named by id. A
   * running job's worker finds it no longer holds the job and records nothing. Returns how many.
   */
  async cancel(filter: CancelFilter): Promise<number> {
    if (!filter.all && !filter.ids?.length && filter.registry === undefined) return 0;
    const { rows } = await this.store.pool.query<{ name: string; id: string }>(
      `SELECT name, id FROM pgboss.job WHERE name = ANY($1) AND state IN ('created', 'retry', 'active')
         AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) AND ($3::text IS NULL OR data->>'registry' = $3)
         AND ($2::uuid[] IS NOT NULL OR name <> $4)`,
      [ALL_QUEUES, filter.ids?.length ? [...filter.ids] : null, filter.registry ?? null, DEAD_LETTER_QUEUE],
    );
    let cancelled = 0;
    for (const name of ALL_QUEUES) {
      const ids = rows.filter((r) => r.name === name).map((r) => r.id);
      if (ids.length === 0) continue;
      await this.boss.cancel(name, ids);
      cancelled += ids.length;
    }
    return cancelled;
  }

  /** Stops pg-boss's maintenance; the store (and its pool) stays open. */
  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false });
  }
}

async function dropClaims(client: pg.PoolClient, job: LeasedJob): Promise<void> {
  await client.query('DELETE FROM scan_claims WHERE job_id = $1', [job.id]);
}

/** How many of these job ids exist (after an insert that skips singletons already queued). */
async function countJobs(client: pg.PoolClient, ids: readonly string[]): Promise<number> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pgboss.job WHERE name = ANY($1) AND id = ANY($2::uuid[])', [SCAN_QUEUES, ids]);
  return rows[0]!.n;
}

function definedOnly(options: Partial<RetrySettings>): Partial<RetrySettings> {
  return Object.fromEntries(Object.entries({ retryLimit: options.retryLimit, retryDelaySeconds: options.retryDelaySeconds }).filter(([, v]) => v !== undefined));
}

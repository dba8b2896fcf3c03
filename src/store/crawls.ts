/**
 * Crawls as the store keeps them (migration 003): one row per pass of a source with a plan, its cursor written in
 * the transaction that enqueues the jobs it stands after. What a cursor holds is the crawl's business
 * (src/crawl/): here it is JSON, kept as written.
 *
 *   const held = await crawls.begin('registry:127.0.0.1:5000', plan, jobOptions);   // the unfinished pass, or a new one
 *   await store.transaction(async (client) => {
 *     await queue.enqueue(jobs, { client });
 *     await crawls.advance(held.crawl.id, cursor, { targets: jobs.length, enqueued, alreadyQueued }, client);
 *   });
 *   await crawls.finish(held, 'done');
 *
 * `begin` holds the pass for this process (a session advisory lock on a connection of its own): a second crawl of
 * the same source and plan, on any machine, is refused while the first runs. A crawl that was killed holds nothing
 * (its session ended), and its pass resumes at the next `begin`.
 */
import type pg from 'pg';
import { StoreError } from './errors.js';
import { CRAWL_LOCK_SPACE } from './locks.js';
import { MAX_CRAWL_NOTICES_KEPT, SHOWN_TEXT_BYTES } from './limits.js';
import { storableText } from './rows.js';
import type { Store } from './store.js';

export type CrawlStatus = 'running' | 'stopped' | 'done' | 'abandoned';

export interface CrawlCounts {
  /** Targets the source yielded and the crawl committed. */
  targets: number;
  /** New jobs. */
  enqueued: number;
  /** Jobs the queue already had (the same reference and platform waiting). */
  alreadyQueued: number;
  /** Targets recorded as skipped scans (over `--max-image-size`). */
  skipped: number;
}

export interface CrawlRecord extends CrawlCounts {
  id: number;
  source: string;
  plan: string;
  /** The position after the last committed target; null before the first. */
  cursor: unknown;
  jobOptions: Record<string, unknown>;
  status: CrawlStatus;
  error: string | null;
  /** The first notices of the pass, and how many there were. */
  notices: string[];
  noticeCount: number;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** A pass this process holds. */
export interface HeldCrawl {
  crawl: CrawlRecord;
  /** True when it goes on from an earlier, unfinished pass (its cursor and counts). */
  resumed: boolean;
  /** Ends the hold (the lock's connection goes back); `finish` does it too. */
  release(): Promise<void>;
}

export interface BeginOptions {
  /** Abandon the unfinished pass of this source and plan and start a new one from the beginning. */
  restart?: boolean;
}

interface CrawlRow {
  id: string;
  source: string;
  plan: string;
  cursor: unknown;
  job_options: Record<string, unknown>;
  status: CrawlStatus;
  error: string | null;
  targets: string;
  enqueued: string;
  already_queued: string;
  skipped: string;
  notices: string[];
  notice_count: number;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function recordOf(row: CrawlRow): CrawlRecord {
  return {
    id: Number(row.id),
    source: row.source,
    plan: row.plan,
    cursor: row.cursor,
    jobOptions: row.job_options,
    status: row.status,
    error: row.error,
    targets: Number(row.targets),
    enqueued: Number(row.enqueued),
    alreadyQueued: Number(row.already_queued),
    skipped: Number(row.skipped),
    notices: row.notices,
    noticeCount: row.notice_count,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

type Queryable = pg.Pool | pg.PoolClient;

export class CrawlLog {
  constructor(private readonly store: Store) {}

  /**
   * The unfinished pass of `source` with `plan`, or a new one, held by this process until `finish` or `release`.
   * Throws a `StoreError` when another process holds it.
   */
  async begin(source: string, plan: string, jobOptions: Record<string, unknown>, options: BeginOptions = {}): Promise<HeldCrawl> {
    const src = storableText(source, SHOWN_TEXT_BYTES);
    const lockClient = await this.store.pool.connect();
    // a connection that breaks while held (the server restarting) must not take the process down; the hold ends with it
    let broken = false;
    const onError = () => {
      broken = true;
    };
    lockClient.on('error', onError);
    let held = false;
    try {
      const { rows: found } = await lockClient.query<CrawlRow>('SELECT * FROM crawls WHERE source = $1 AND plan = $2 AND finished_at IS NULL', [src, plan]);
      let row = found[0];
      if (row) {
        await this.lock(lockClient, row);
        held = true;
        if (options.restart) {
          await lockClient.query(`UPDATE crawls SET status = 'abandoned', finished_at = now(), updated_at = now() WHERE id = $1`, [row.id]);
          await lockClient.query('SELECT pg_advisory_unlock($1, $2)', [CRAWL_LOCK_SPACE, lockKey(row.id)]);
          held = false;
          row = undefined;
        }
      }
      const resumed = row !== undefined;
      if (!row) {
        const { rows } = await lockClient.query<CrawlRow>(
          `INSERT INTO crawls (source, plan, job_options, status) VALUES ($1, $2, $3, 'running')
           ON CONFLICT (source, plan) WHERE finished_at IS NULL DO NOTHING RETURNING *`,
          [src, plan, JSON.stringify(jobOptions)],
        );
        // another process made it between our look and our insert: it holds it
        if (!rows[0]) throw new StoreError(`a crawl of ${source} with these options has just been started by another process`, 'let it run, or stop it first');
        row = rows[0];
        await this.lock(lockClient, row);
        held = true;
      } else {
        const { rows } = await lockClient.query<CrawlRow>(`UPDATE crawls SET status = 'running', error = NULL, job_options = $2, updated_at = now() WHERE id = $1 RETURNING *`, [row.id, JSON.stringify(jobOptions)]);
        row = rows[0]!;
      }
      const id = row.id;
      let released = false;
      return {
        crawl: recordOf(row),
        resumed,
        release: async () => {
          if (released) return;
          released = true;
          await lockClient.query('SELECT pg_advisory_unlock($1, $2)', [CRAWL_LOCK_SPACE, lockKey(id)]).catch(() => {});
          lockClient.off('error', onError);
          lockClient.release(broken);
        },
      };
    } catch (err) {
      if (held) await lockClient.query('SELECT pg_advisory_unlock_all()').catch(() => {});
      lockClient.off('error', onError);
      lockClient.release(broken);
      throw err;
    }
  }

  private async lock(client: pg.PoolClient, row: CrawlRow): Promise<void> {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [CRAWL_LOCK_SPACE, lockKey(row.id)]);
    if (!rows[0]!.ok) {
      throw new StoreError(
        `a crawl of ${row.source} with these options is running in another process (since ${row.updated_at.toISOString()})`,
        'let it finish, or stop it (Ctrl-C or SIGTERM) and run this again to resume',
      );
    }
  }

  /** Moves the pass's cursor and adds to its counts, in the caller's transaction (with the jobs the cursor stands after). */
  async advance(id: number, cursor: unknown, added: Partial<CrawlCounts> & { notices?: readonly string[] }, db: Queryable): Promise<void> {
    const notices = (added.notices ?? []).map((n) => storableText(n, SHOWN_TEXT_BYTES));
    await db.query(
      `UPDATE crawls SET cursor = COALESCE($2::json, cursor), targets = targets + $3, enqueued = enqueued + $4, already_queued = already_queued + $5,
              skipped = skipped + $6, notices = CASE WHEN cardinality(notices) >= $8 THEN notices ELSE (notices || $7::text[])[1:$8] END,
              notice_count = notice_count + cardinality($7::text[]), updated_at = now()
       WHERE id = $1`,
      [id, cursor === undefined ? null : JSON.stringify(cursor), added.targets ?? 0, added.enqueued ?? 0, added.alreadyQueued ?? 0, added.skipped ?? 0, notices, MAX_CRAWL_NOTICES_KEPT],
    );
  }

  /** Ends the hold: `done` (the source is exhausted) or `stopped` (interrupted or failed: the next `begin` resumes it). */
  async finish(held: HeldCrawl, status: 'done' | 'stopped', error?: string): Promise<void> {
    try {
      await this.store.pool.query(
        `UPDATE crawls SET status = $2, error = $3, updated_at = now(), finished_at = CASE WHEN $2 = 'done' THEN now() END WHERE id = $1`,
        [held.crawl.id, status, error === undefined ? null : storableText(error, SHOWN_TEXT_BYTES)],
      );
    } finally {
      await held.release();
    }
  }

  /** The most recent passes first; `unfinished` only those a crawl would resume. */
  async list(options: { limit?: number; unfinished?: boolean } = {}): Promise<CrawlRecord[]> {
    const { rows } = await this.store.pool.query<CrawlRow>(
      `SELECT * FROM crawls ${options.unfinished ? 'WHERE finished_at IS NULL' : ''} ORDER BY started_at DESC, id DESC LIMIT $1`,
      [options.limit ?? 20],
    );
    return rows.map(recordOf);
  }

  /** Whether a process holds the pass now (a `running` row nobody holds was killed: it resumes when started again). */
  async isHeld(id: number): Promise<boolean> {
    const { rows } = await this.store.pool.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2) AS held`,
      [CRAWL_LOCK_SPACE, lockKey(String(id))],
    );
    return rows[0]!.held;
  }
}

/** The lock's second key: the pass's id (an int4; ids past 2^31 wrap, which only two passes far apart could share). */
function lockKey(id: string): number {
  return Number(BigInt(id) % 2147483648n);
}

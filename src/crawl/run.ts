/**
 * A crawl pass: one source's targets into the scan queue, resumably. Targets are committed in batches; each batch's
 * jobs, its skipped scans and the cursor after its last target go into the store in one transaction, so a crawl
 * stopped at any moment (Ctrl-C, SIGKILL, the store restarting) and started again goes on after the last committed
 * target: nothing enqueued twice, nothing lost. `detonate crawl` runs one pass per source (src/cli/crawl.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { within } from '../util/timing.js';
import type { Progress } from '../progress/progress.js';
import { silentProgress } from '../progress/progress.js';
import { CrawlLog, type CrawlCounts, type CrawlRecord } from '../store/crawls.js';
import { scanJobFor, type ScanJob, type ScanQueue } from '../store/queue.js';
import { retryingStore } from '../store/retry.js';
import type { Store } from '../store/store.js';
import { DEFAULT_CRAWL_BATCH, type CrawlBatchSettings } from './limits.js';
import { parseCrawlCursor } from './plan.js';
import { parseCrawlSource } from './source.js';
import type { CrawlCursor, CrawlItem, CrawlOptions } from './types.js';

/** What every job of a crawl carries (the `scan` options that apply to a queued image). */
export interface CrawlJobOptions {
  staticOnly: boolean;
  detonateTimeoutMs: number;
  platform?: string;
  maxImageSizeBytes?: number;
}

export interface CrawlRunOptions {
  store: Store;
  queue: ScanQueue;
  job: CrawlJobOptions;
  /** How the source enumerates (`--tags`, `--sample`, order, credentials …); its `notice` also gets every notice. */
  crawl: CrawlOptions;
  /** Start this source again from the beginning, abandoning its unfinished pass. */
  restart?: boolean;
  /** Stops the pass between targets; what was committed stays, and the next pass resumes after it. */
  signal?: AbortSignal;
  progress?: Progress;
  batch?: Partial<CrawlBatchSettings>;
}

export interface CrawlRunResult {
  source: string;
  crawlId: number;
  /** It went on from an earlier pass that had stopped. */
  resumed: boolean;
  /** `done`: the source is exhausted; `stopped`: interrupted or failed (`error`), to be resumed. */
  status: 'done' | 'stopped';
  /** What this run committed. */
  counts: CrawlCounts;
  /** The whole pass's counts, earlier runs of it included. */
  pass: CrawlCounts;
  error?: Error;
}

/** Most pulled first: pg-boss runs higher priorities first; a pull count's magnitude is the priority. */
export function priorityOf(job: ScanJob): number {
  return job.pullCount === undefined ? 0 : Math.round(Math.log2(job.pullCount + 1));
}

const zero = (): CrawlCounts => ({ targets: 0, enqueued: 0, alreadyQueued: 0, skipped: 0 });

function add(to: CrawlCounts, more: CrawlCounts): void {
  to.targets += more.targets;
  to.enqueued += more.enqueued;
  to.alreadyQueued += more.alreadyQueued;
  to.skipped += more.skipped;
}

function countsOf(record: CrawlRecord): CrawlCounts {
  return { targets: record.targets, enqueued: record.enqueued, alreadyQueued: record.alreadyQueued, skipped: record.skipped };
}

/** The detail of the progress line: `120 images: 100 queued, 15 already queued, 5 skipped`. */
export function describeCounts(c: CrawlCounts): string {
  return `${c.targets} image${c.targets === 1 ? '' : 's'}: ${c.enqueued} queued, ${c.alreadyQueued} already queued, ${c.skipped} skipped`;
}

/** One pass of `spec` (see `parseCrawlSource` for the forms), resumed from its unfinished pass when there is one. */
export async function runCrawl(spec: string, options: CrawlRunOptions): Promise<CrawlRunResult> {
  const { store, queue } = options;
  const settings: CrawlBatchSettings = { ...DEFAULT_CRAWL_BATCH, ...options.batch };
  const pendingNotices: string[] = [];
  const source = parseCrawlSource(spec, {
    ...options.crawl,
    notice: (message) => {
      pendingNotices.push(message);
      options.crawl.notice?.(message);
    },
  });
  const log = new CrawlLog(store);
  const held = await retryingStore(() => log.begin(spec, source.plan, { ...options.job }, { restart: options.restart ?? false }));
  const counts = zero();
  const pass = countsOf(held.crawl);
  const progress = (options.progress ?? silentProgress).task(`crawl ${spec}`);
  let batch: CrawlItem[] = [];
  let batchStarted = 0;

  const commit = async (): Promise<void> => {
    if (batch.length === 0 && pendingNotices.length === 0) return;
    const items = batch;
    const notices = pendingNotices.splice(0);
    batch = [];
    const cursor = items.length > 0 ? items[items.length - 1]!.cursor : undefined;
    const jobs = items.filter((i) => !i.skip).map((i) => jobOf(i, spec, options.job));
    const skips = items.filter((i) => i.skip);
    const added = await retryingStore(() =>
      store.transaction(async (client) => {
        // a retry after a commit whose answer was lost: the cursor already stands after this batch
        const { rows } = await client.query<{ cursor: unknown }>('SELECT cursor FROM crawls WHERE id = $1 FOR UPDATE', [held.crawl.id]);
        if (cursor !== undefined && isDeepStrictEqual(rows[0]?.cursor, cursor)) return null;
        const result = jobs.length > 0 ? await queue.enqueue(jobs, { client, priority: priorityOf }) : { enqueued: 0, alreadyQueued: 0 };
        for (const item of skips) {
          // the crawl judges nothing: a skip before any worker has no rules digest
          await store.recordSkippedScan({ reference: item.target.reference, ...(item.target.digest ? { digest: item.target.digest } : {}) }, item.skip!, { rulesDigest: '' }, client);
        }
        const step: CrawlCounts = { targets: items.length, enqueued: result.enqueued, alreadyQueued: result.alreadyQueued, skipped: skips.length };
        await log.advance(held.crawl.id, cursor, { ...step, notices }, client);
        return step;
      }),
    );
    if (added) {
      add(counts, added);
      add(pass, added);
    }
    progress.update(pass.targets, describeCounts(pass));
  };

  let failure: Error | undefined;
  try {
    const resume: CrawlCursor | null = held.resumed && held.crawl.cursor !== null ? parseCrawlCursor(held.crawl.cursor) : null;
    progress.update(pass.targets, describeCounts(pass));
    const items = source.targets(resume, options.signal)[Symbol.asyncIterator]();
    try {
      let next = items.next();
      for (;;) {
        // a batch waiting on a slow listing is committed when it is due, while the listing goes on
        // (a rejection that arrives while that commit runs is seen at the next wait, not reported as unhandled)
        next.catch(() => {});
        const step = batch.length === 0 ? await next : await within(next, Math.max(0, batchStarted + settings.maxWaitMs - Date.now()), 'due' as const);
        if (step === 'due') {
          await commit();
          continue;
        }
        if (step.done || options.signal?.aborted) break;
        if (batch.length === 0) batchStarted = Date.now();
        batch.push(step.value);
        next = items.next();
        if (batch.length >= settings.maxTargets) await commit();
      }
    } finally {
      // ends the listing (its connections close); not awaited: after a failed commit a request may still be out
      void items.return?.()?.catch(() => {});
    }
    await commit();
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    // what the source yielded before it failed is good: commit it, so the next pass resumes after it
    await commit().catch((commitErr: unknown) => {
      failure = commitErr instanceof Error ? commitErr : new Error(String(commitErr));
    });
  }
  const stopped = failure !== undefined || Boolean(options.signal?.aborted);
  const aborted = failure !== undefined && options.signal?.aborted && failure.name === 'AbortError';
  const status = stopped ? 'stopped' : 'done';
  const error = failure && !aborted ? failure.message : undefined;
  await retryingStore(() => log.finish(held, status, error)).catch(() => held.release());
  progress.finish(`${describeCounts(pass)}${status === 'stopped' ? ' (stopped: run again to resume)' : ''}`);
  return {
    source: spec,
    crawlId: held.crawl.id,
    resumed: held.resumed,
    status,
    counts,
    pass,
    ...(failure && !aborted ? { error: failure } : {}),
  };
}

function jobOf(item: CrawlItem, spec: string, options: CrawlJobOptions): ScanJob {
  const { target } = item;
  return scanJobFor(target.reference, {
    staticOnly: options.staticOnly,
    detonateTimeoutMs: options.detonateTimeoutMs,
    ...(options.platform !== undefined ? { platform: options.platform } : {}),
    ...(options.maxImageSizeBytes !== undefined ? { maxImageSizeBytes: options.maxImageSizeBytes } : {}),
    ...(target.digest !== undefined ? { digest: target.digest } : {}),
    ...(target.pullCount !== undefined ? { pullCount: target.pullCount } : {}),
    crawl: spec,
  });
}

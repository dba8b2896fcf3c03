import { Command, Option } from 'commander';
import type { Store, StoreLocation, RegistryLimitRow } from '../store/index.js';
import type { QueueCounts, QueueRates, ScanQueue } from '../store/queue.js';
import { MAX_CRAWLS_SHOWN } from './limits.js';
import { parseDuration } from './scan.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

/** `detonate status --json`. */
export interface StatusReport {
  store: string;
  queue: QueueCounts;
  /** Scans recorded, by status (a tag linked to the scan of its digest adds none). */
  scans: { done: number; failed: number; skipped: number };
  images: number;
  /** Jobs finished (scanned, linked, skipped or recorded as failed). */
  rate: QueueRates & { perHour: number };
  /** Seconds until the queued and running jobs are done at the current rate; null when nothing finishes now. */
  etaSeconds: number | null;
  /**
   * Crawl passes, the unfinished ones first and then the most recent: `running` when a process holds it now,
   * `stopped` when it was interrupted (a crawl of the same source and options resumes it).
   */
  crawls: Array<{ id: number; source: string; plan: string; status: 'running' | 'stopped' | 'done'; targets: number; enqueued: number; alreadyQueued: number; skipped: number; notices: number; error: string | null; startedAt: Date; updatedAt: Date; finishedAt: Date | null }>;
  /** Registries with a rate limit set, paused, or failing. */
  registries: Array<Pick<RegistryLimitRow, 'registry' | 'pausedUntil' | 'pauseReason' | 'consecutiveFailures' | 'configured'> & { perSecond: number }>;
}

export async function readStatus(store: Store, queue: ScanQueue): Promise<StatusReport> {
  const [{ RegistryLimits }, { CrawlLog }] = await Promise.all([import('../store/index.js'), import('../store/crawls.js')]);
  const crawlLog = new CrawlLog(store);
  const [summary, counts, rates, limits, unfinished, recent] = await Promise.all([
    store.summary(), queue.counts(), queue.rates(), new RegistryLimits(store.pool, { capacity: 1, refillPerSecond: 1 }).list(),
    crawlLog.list({ unfinished: true, limit: MAX_CRAWLS_SHOWN }), crawlLog.list({ limit: MAX_CRAWLS_SHOWN }),
  ]);
  const passes = [...unfinished, ...recent.filter((r) => r.finishedAt !== null && r.status === 'done')].slice(0, MAX_CRAWLS_SHOWN);
  const crawls: StatusReport['crawls'] = [];
  for (const c of passes) {
    const status = c.finishedAt !== null ? 'done' : (await crawlLog.isHeld(c.id)) ? 'running' : 'stopped';
    crawls.push({ id: c.id, source: c.source, plan: c.plan, status, targets: c.targets, enqueued: c.enqueued, alreadyQueued: c.alreadyQueued, skipped: c.skipped, notices: c.noticeCount, error: c.error, startedAt: c.startedAt, updatedAt: c.updatedAt, finishedAt: c.finishedAt });
  }
  // the last minute's rate when there is one (it follows a change soonest), else the last hour's
  const perSecond = rates.lastMinute > 0 ? rates.lastMinute / 60 : rates.lastHour / 3600;
  const remaining = counts.queued + counts.running;
  return {
    store: store.location,
    queue: counts,
    scans: summary.scans,
    images: summary.images,
    rate: { ...rates, perHour: Math.round(perSecond * 3600) },
    crawls,
    etaSeconds: remaining === 0 ? 0 : perSecond > 0 ? Math.round(remaining / perSecond) : null,
    registries: limits
      .filter((r) => r.configured || r.pausedUntil || r.consecutiveFailures > 0)
      .map((r) => ({ registry: r.registry, perSecond: r.refillPerSecond, configured: r.configured, pausedUntil: r.pausedUntil, pauseReason: r.pauseReason, consecutiveFailures: r.consecutiveFailures })),
  };
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

export function statusText(s: StatusReport, now = new Date()): string {
  const q = s.queue;
  const lines = [
    `store       ${s.store}`,
    `queue       ${q.queued} queued${q.later ? ` (${q.later} not before later)` : ''}, ${q.running} running${q.dead ? `, ${q.dead} dead (detonate queue failed)` : ''}${q.cancelled ? `, ${q.cancelled} cancelled` : ''}`,
    `scans       ${s.scans.done} done, ${s.scans.failed} failed, ${s.scans.skipped} skipped, of ${s.images} image tags`,
    `rate        ${s.rate.lastMinute} in the last minute, ${s.rate.lastHour} in the last hour`,
    `eta         ${s.etaSeconds === 0 ? 'nothing left' : s.etaSeconds === null ? 'unknown (nothing finished in the last hour)' : `about ${duration(s.etaSeconds)} at ${s.rate.perHour}/h`}`,
  ];
  for (const c of s.crawls) {
    const state = c.status === 'running' ? 'running' : c.status === 'stopped' ? `stopped${c.error ? ` (${c.error})` : ''}: run it again to resume` : `done ${c.finishedAt!.toISOString().slice(0, 16).replace('T', ' ')}`;
    lines.push(`crawl       ${c.source} (${c.plan}): ${c.targets} images, ${c.enqueued} queued, ${c.alreadyQueued} already queued, ${c.skipped} skipped${c.notices ? `, ${c.notices} notices` : ''}; ${state}`);
  }
  for (const r of s.registries) {
    const state = r.pausedUntil
      ? `paused for ${duration(Math.max(1, Math.round((r.pausedUntil.getTime() - now.getTime()) / 1000)))}: ${r.pauseReason ?? ''}`
      : r.consecutiveFailures > 0 ? `${r.consecutiveFailures} image(s) in a row failed` : 'ok';
    lines.push(`registry    ${r.registry}: ${state}${r.configured ? ` (limit ${+(r.perSecond * 3600).toFixed(1)}/h)` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('the scan queue and the results: queued, running, done, failed, skipped, rate and ETA (live on a terminal)')
    .option('--store <where>', STORE_OPTION_HELP)
    .addOption(new Option('--format <format>', 'text, or json printed once (for scripts); default text, live on a terminal').choices(['text', 'json']))
    .option('--json', 'the same as --format json')
    .option('--interval <duration>', 'refresh interval on a terminal', parseDuration, 2000)
    .action(async (flags: { store?: string; json?: boolean; format?: 'text' | 'json'; interval: number }) => {
      const json = flags.json || flags.format === 'json';
      const location: StoreLocation = await storeLocationOf(flags.store);
      const [{ openStore }, { ScanQueue }] = await Promise.all([import('../store/index.js'), import('../store/queue.js')]);
      const store = await openStore(location, { poolSize: 2 });
      try {
        const queue = await ScanQueue.open(store);
        try {
          if (json || flags.format === 'text' || !process.stdout.isTTY) {
            const status = await readStatus(store, queue);
            process.stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
            return;
          }
          await live(() => readStatus(store, queue), flags.interval);
        } finally {
          await queue.close();
        }
      } finally {
        await store.close();
      }
    });
}

/** Redraws the status every `intervalMs` until Ctrl-C. */
async function live(read: () => Promise<StatusReport>, intervalMs: number): Promise<void> {
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      const text = await read().then(statusText, (err: unknown) => `status: ${(err as Error).message}\n`);
      process.stdout.write(`\x1b[H\x1b[2J${text}\n(every ${(intervalMs / 1000).toFixed(1)} s; Ctrl-C to quit)\n`);
      for (let waited = 0; waited < intervalMs && !stopped; waited += 100) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

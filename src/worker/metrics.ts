/**
 * A worker's Prometheus metrics, in the text exposition format, on 127.0.0.1 only (`--metrics-port`):
 *
 *   detonate_worker_jobs_total{outcome}          jobs this worker finished, by outcome (see JobOutcome)
 *   detonate_worker_scan_duration_seconds        histogram of the time from fetch to record, of scanned jobs
 *   detonate_worker_layers_total{source}         layers of the images it scanned: results taken from the store
 *                                                (`store`: analysed before, by any worker) or analysed here
 *   detonate_worker_running_jobs                 jobs running now
 *   detonate_worker_concurrency                  the most it runs at once
 *   detonate_queue_jobs{state}                   the shared queue: queued, running, dead (read on each scrape)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QueueCounts } from '../store/queue.js';
import { QUEUE_COUNTS_TTL_MS } from './limits.js';

/** What became of a job. */
export const JOB_OUTCOMES = [
  /** scanned and recorded */
  'scanned',
  /** another tag of a digest already scanned: the tag linked to that scan */
  'linked',
  /** recorded as skipped (too large) */
  'skipped',
  /** the image could not be scanned: recorded as a failed scan with the stage and reason */
  'failed',
  /** a passing failure: the job will be tried again */
  'retried',
  /** a passing failure on the last attempt: the job went to the dead-letter queue */
  'dead',
  /** its registry was paused or out of tokens: put back for later, no attempt counted */
  'deferred',
  /** the worker stopped before it finished: put back for any worker */
  'released',
  /** cancelled, or its lease expired: another worker has it, nothing recorded */
  'lost',
] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** Where a layer's static result came from: the store (the layer dedupe's hit) or an analysis in this worker. */
export const LAYER_SOURCES = ['store', 'analysed'] as const;
export type LayerSource = (typeof LAYER_SOURCES)[number];

const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

export class WorkerMetrics {
  private readonly jobs = new Map<JobOutcome, number>(JOB_OUTCOMES.map((o) => [o, 0]));
  private readonly buckets = DURATION_BUCKETS.map(() => 0);
  private durationCount = 0;
  private durationSum = 0;
  private readonly layers = new Map<LayerSource, number>(LAYER_SOURCES.map((s) => [s, 0]));
  running = 0;

  constructor(readonly concurrency: number) {}

  finished(outcome: JobOutcome): void {
    this.jobs.set(outcome, (this.jobs.get(outcome) ?? 0) + 1);
  }

  scanned(seconds: number): void {
    this.durationCount++;
    this.durationSum += seconds;
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.buckets[i]!++;
    });
  }

  count(outcome: JobOutcome): number {
    return this.jobs.get(outcome) ?? 0;
  }

  layer(source: LayerSource): void {
    this.layers.set(source, (this.layers.get(source) ?? 0) + 1);
  }

  layerCount(source: LayerSource): number {
    return this.layers.get(source) ?? 0;
  }

  render(queue: QueueCounts | null): string {
    const lines = [
      '# HELP detonate_worker_jobs_total Jobs this worker finished, by outcome.',
      '# TYPE detonate_worker_jobs_total counter',
      ...JOB_OUTCOMES.map((o) => `detonate_worker_jobs_total{outcome="${o}"} ${this.count(o)}`),
      '# HELP detonate_worker_scan_duration_seconds Time from fetching a job to recording its scan.',
      '# TYPE detonate_worker_scan_duration_seconds histogram',
      ...DURATION_BUCKETS.map((le, i) => `detonate_worker_scan_duration_seconds_bucket{le="${le}"} ${this.buckets[i]}`),
      `detonate_worker_scan_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`,
      `detonate_worker_scan_duration_seconds_sum ${this.durationSum}`,
      `detonate_worker_scan_duration_seconds_count ${this.durationCount}`,
      '# HELP detonate_worker_layers_total Layers of the images this worker scanned, by where their static result came from.',
      '# TYPE detonate_worker_layers_total counter',
      ...LAYER_SOURCES.map((s) => `detonate_worker_layers_total{source="${s}"} ${this.layerCount(s)}`),
      '# HELP detonate_worker_running_jobs Jobs running in this worker now.',
      '# TYPE detonate_worker_running_jobs gauge',
      `detonate_worker_running_jobs ${this.running}`,
      '# HELP detonate_worker_concurrency The most jobs this worker runs at once.',
      '# TYPE detonate_worker_concurrency gauge',
      `detonate_worker_concurrency ${this.concurrency}`,
    ];
    if (queue) {
      lines.push(
        '# HELP detonate_queue_jobs Jobs in the shared queue, by state.',
        '# TYPE detonate_queue_jobs gauge',
        `detonate_queue_jobs{state="queued"} ${queue.queued}`,
        `detonate_queue_jobs{state="running"} ${queue.running}`,
        `detonate_queue_jobs{state="dead"} ${queue.dead}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}


/** Serves `GET /metrics` on 127.0.0.1:`port` (0: any free port); the queue counts are read on a scrape. */
export async function serveMetrics(metrics: WorkerMetrics, port: number, queueCounts: () => Promise<QueueCounts>): Promise<{ port: number; close(): Promise<void> }> {
  let cached: { at: number; counts: QueueCounts | null } | undefined;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      if (!cached || Date.now() - cached.at > QUEUE_COUNTS_TTL_MS) {
        cached = { at: Date.now(), counts: await queueCounts().catch(() => null) };
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render(cached.counts));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

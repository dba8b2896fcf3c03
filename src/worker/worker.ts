/**
 * `detonate worker`: takes scan jobs from the store's queue and runs them, up to `concurrency` at once, until it is
 * stopped (or, with `drain`, until no job is left). Stateless: everything it shares with other workers is in the
 * store, and each job's blobs are in a directory of its own, removed when the job ends.
 *
 * A job's life:
 * 1. fetched (a `fetch` loop, not pg-boss's `work()`, whose polling sleeps between batches even when jobs wait);
 *    heartbeats keep it taken (its lease) while it runs, for at most its budget;
 * 2. its registry's token taken (src/worker/registry-gate.ts), or the job deferred if the registry is paused;
 * 3. scanned (src/worker/job-scan.ts);
 * 4. the reports, the tags linked to scans of the same digest, the images skipped, or the failed scan (the image's
 *    fault, with the stage and reason) recorded AND the job completed, in one transaction, retried while the store
 *    is away; a job the worker no longer holds (cancelled, expired and taken by another) records nothing.
 *    A passing failure (registry, store, host) fails the attempt instead: pg-boss retries it with backoff, and
 *    after the last retry moves it to the dead-letter queue.
 *
 * Stopping (SIGTERM): no new job is fetched; running jobs get `stopTimeoutMs` to finish, then the ones still
 * running are released (put back for any worker, no attempt counted) and their detonations stopped and torn down.
 * A second stop releases them at once. The worker owns the signals: a detonation is not interrupted by them.
 */
import { processAlive } from '../util/process.js';
import { within } from '../util/timing.js';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Report } from '../model/index.js';
import type { Store, UnfinishedScanMeta } from '../store/index.js';
import type { LeasedJob, QueueKind, ScanQueue } from '../store/queue.js';
import { toolVersion } from '../version.js';
import { classifyFailure, failureMessage, failureReason } from './failure.js';
import { retryingStore } from '../store/retry.js';
import { ImageBeingScanned, scanJob, storeLayerResults, type JobScanResult, type JobScanState, type ScanPipeline } from './job-scan.js';
import type { LayerResultStore } from '../scan/scan.js';
import { JOB_OUTCOMES, LAYER_SOURCES, type JobOutcome, type LayerSource, type WorkerMetrics } from './metrics.js';
import { isRateLimited, type RegistryGate, type RegistryWatch } from './registry-gate.js';
import { BUSY_IMAGE_WAIT_MS, DETONATION_BUDGET_MARGIN_MS, IDLE_POLL_MS, MAX_RECORD_RETRIES, RELEASED_JOB_TEARDOWN_WAIT_MS, STATIC_SCAN_BUDGET_MS } from './limits.js';

export interface WorkerOptions {
  store: Store;
  queue: ScanQueue;
  gate: RegistryGate;
  pipeline: ScanPipeline;
  concurrency: number;
  /** Stop once no job is queued or running in the queues this worker takes from. */
  drain: boolean;
  /** How long a job stays taken without a heartbeat (a killed worker's jobs come back after this). */
  leaseSeconds: number;
  /** How long a stop waits for running jobs before releasing them. */
  stopTimeoutMs: number;
  /** Idle wait between fetches when the queue was empty. */
  pollIntervalMs?: number;
  log: (line: string) => void;
  metrics: WorkerMetrics;
}

/** What a worker did, when it returns. */
export interface WorkerSummary {
  outcomes: Record<JobOutcome, number>;
  /** Layers of the images it scanned, by where their static result came from. */
  layers: Record<LayerSource, number>;
  /** Why it returned. */
  reason: 'drained' | 'stopped';
}

/** How long a job may run: the static stage's budget, plus the detonation's timeout and margin when it detonates. */
export function scanBudgetMs(job: { staticOnly: boolean; detonateTimeoutMs: number }): number {
  return STATIC_SCAN_BUDGET_MS + (job.staticOnly ? 0 : job.detonateTimeoutMs + DETONATION_BUDGET_MARGIN_MS);
}

interface RunningJob {
  job: LeasedJob;
  startedAt: Date;
  /** The worker no longer holds it (heartbeat refused): nothing may be recorded. */
  lost: boolean;
  /** Released by a stop: nothing may be recorded. */
  released: boolean;
  /** Aborted when the job is released: a detonation in progress ends and tears its sandbox down. */
  abort: AbortController;
  /** Where its scan stands (a released job in `detonate` has a sandbox to tear down). */
  state: JobScanState;
  done: Promise<void>;
}

class LeaseLost extends Error {
  constructor() {
    super('the job is no longer held by this worker (cancelled, released, or its lease expired and another worker took it)');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Worker {
  private readonly running = new Map<string, RunningJob>();
  private stopRequests = 0;
  private wakeUp: (() => void) | undefined;
  private readonly kinds: QueueKind[];
  private readonly advisoryDbBuiltAt: string | null;
  private readonly layerResults: LayerResultStore;

  constructor(private readonly options: WorkerOptions) {
    // A worker with a sandbox takes detonation jobs first: only such workers can do them.
    this.kinds = options.pipeline.detonation ? ['detonate', 'static'] : ['static'];
    this.advisoryDbBuiltAt = options.pipeline.vulnerabilities?.db?.status().builtAt || null;
    this.layerResults = storeLayerResults(options.store, options.log, (source) => options.metrics.layer(source));
  }

  /** The queues this worker takes jobs from. */
  get queues(): readonly QueueKind[] {
    return this.kinds;
  }

  /** First call: finish or release the running jobs (bounded) and return; second: release them now. */
  stop(): void {
    this.stopRequests++;
    this.wake();
  }

  async run(): Promise<WorkerSummary> {
    const { concurrency, drain, log } = this.options;
    await mkdir(this.options.pipeline.jobsDir, { recursive: true });
    await removeAbandonedJobDirs(this.options.pipeline.jobsDir);
    let reason: WorkerSummary['reason'] = 'stopped';
    let storeTrouble = false;
    while (this.stopRequests === 0) {
      let fetched = 0;
      for (const kind of this.kinds) {
        const free = concurrency - this.running.size;
        if (free <= 0 || this.stopRequests > 0) break;
        const jobs = await this.options.queue.fetch(kind, free).catch(() => []);
        for (const job of jobs) this.start(job);
        fetched += jobs.length;
      }
      if (fetched === 0 && drain && this.running.size === 0) {
        try {
          const pending = await this.options.queue.pending(this.kinds);
          if (storeTrouble) log('the store answers again');
          storeTrouble = false;
          if (pending === 0) {
            reason = 'drained';
            break;
          }
        } catch (err) {
          if (!storeTrouble) log(`warning: the store does not answer (${failureMessage(err)}); trying again`);
          storeTrouble = true;
        }
      }
      if (fetched > 0 && this.running.size < concurrency) continue; // there may be more waiting
      await this.idle(this.running.size >= concurrency ? undefined : (this.options.pollIntervalMs ?? IDLE_POLL_MS));
    }
    if (reason === 'stopped') await this.finishRunning();
    const outcomes = Object.fromEntries(JOB_OUTCOMES.map((o) => [o, this.options.metrics.count(o)])) as Record<JobOutcome, number>;
    const layers = Object.fromEntries(LAYER_SOURCES.map((s) => [s, this.options.metrics.layerCount(s)])) as Record<LayerSource, number>;
    return { outcomes, layers, reason };
  }

  /** Waits for a job to end, a stop, or `ms`. */
  private idle(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** A stop: running jobs get the stop timeout (none on a second stop), then are released. */
  private async finishRunning(): Promise<void> {
    const { log, stopTimeoutMs } = this.options;
    if (this.running.size > 0 && this.stopRequests === 1) {
      log(`stopping: waiting up to ${Math.round(stopTimeoutMs / 1000)} s for ${this.running.size} running job(s) (stop again to release them now)`);
      const deadline = Date.now() + stopTimeoutMs;
      while (this.running.size > 0 && this.stopRequests === 1 && Date.now() < deadline) await this.idle(Math.min(500, deadline - Date.now()));
    }
    const releasing = [...this.running.values()];
    for (const entry of releasing) {
      entry.released = true;
      entry.abort.abort();
      const released = await this.options.queue.release(entry.job).catch((err: unknown) => {
        log(`warning: could not release ${entry.job.data.reference}: ${failureMessage(err)}; it comes back when its lease expires`);
        return false;
      });
      if (released) {
        log(`released ${entry.job.data.reference}: the worker stopped before it finished`);
        this.options.metrics.finished('released');
      }
    }
    // a released detonation tears its sandbox down before the process goes (bounded: a stuck teardown is left to
    // the stale-run clean-up of the next worker or scan on this machine); a static scan leaves only its job dir,
    // which the next worker removes
    const detonating = releasing.filter((e) => e.state.stage === 'detonate');
    if (detonating.length > 0) {
      const ended = Promise.all(detonating.map((e) => e.done));
      if ((await within(ended, RELEASED_JOB_TEARDOWN_WAIT_MS, 'late')) === 'late') {
        log(`warning: released jobs still cleaning up after ${RELEASED_JOB_TEARDOWN_WAIT_MS / 1000} s; what they leave is cleaned up by the next worker`);
      }
    }
  }

  private start(job: LeasedJob): void {
    const entry: RunningJob = { job, startedAt: new Date(), lost: false, released: false, abort: new AbortController(), state: { stage: 'resolve', images: [] }, done: Promise.resolve() };
    this.running.set(job.id, entry);
    this.options.metrics.running = this.running.size;
    entry.done = this.runJob(entry)
      .catch(async (err: unknown) => {
        // not the scan's failure (that is handled in runJob): the attempt is failed so that the job comes back soon
        this.options.log(`warning: ${job.data.reference}: ${failureMessage(err)}`);
        if (entry.released || entry.lost) return;
        await retryingStore(() => this.options.queue.fail(job, { message: failureMessage(err) })).catch(() => {});
      })
      .finally(() => {
        this.running.delete(job.id);
        this.options.metrics.running = this.running.size;
        this.wake();
      });
  }

  private async runJob(entry: RunningJob): Promise<void> {
    const { job } = entry;
    const { gate, leaseSeconds, log } = this.options;
    const beat = async () => {
      if (entry.lost || entry.released) return;
      const held = await this.options.queue.heartbeat(job, leaseSeconds).catch(() => true); // the store away: the lease may still hold
      if (!held && !entry.lost && !entry.released) {
        entry.lost = true;
        log(`${job.data.reference}: ${new LeaseLost().message}; its result will not be recorded`);
      }
    };
    await beat();
    const heartbeat = setInterval(() => void beat(), Math.max(1000, (leaseSeconds * 1000) / 3));
    const budget = setTimeout(() => {
      clearInterval(heartbeat);
      log(`${job.data.reference}: over its budget of ${Math.round(scanBudgetMs(job.data) / 60_000)} min; no more heartbeats, so another attempt follows when its lease expires`);
    }, scanBudgetMs(job.data));
    try {
      if (entry.lost) return this.options.metrics.finished('lost');
      const registry = isRateLimited(job.data.registry) ? job.data.registry : undefined;
      if (registry) {
        const admission = await retryingStore(() => gate.admit(registry));
        if (admission.kind === 'defer') return await this.defer(entry, admission.until, admission.reason);
      }
      const state = entry.state;
      const watch = registry ? gate.watch(registry) : undefined;
      let result: JobScanResult;
      try {
        result = await scanJob(job.data, {
          pipeline: this.options.pipeline,
          store: this.options.store,
          layerResults: this.layerResults,
          advisoryDbBuiltAt: this.advisoryDbBuiltAt,
          ...(watch ? { onRegistryResponse: watch.observer } : {}),
          state,
          signal: entry.abort.signal,
          claim: (digest, platform) => this.options.queue.claim(job, digest, platform),
        });
      } catch (err) {
        if (err instanceof ImageBeingScanned) {
          const waitMs = job.data.staticOnly ? BUSY_IMAGE_WAIT_MS.static : BUSY_IMAGE_WAIT_MS.detonate;
          return await this.defer(entry, new Date(Date.now() + waitMs), `${err.message}; then linked to its scan`);
        }
        return await this.failed(entry, err, state, registry && watch ? { registry, watch } : undefined);
      }
      if (registry) await gate.succeeded(registry).catch(() => {});
      await this.recordDone(entry, result);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(budget);
    }
  }

  private meta(entry: RunningJob): UnfinishedScanMeta {
    const sandbox = entry.job.data.staticOnly ? null : (this.options.pipeline.detonation?.runtime.name ?? null);
    return {
      rulesDigest: this.options.pipeline.rulesDigest,
      toolVersion: toolVersion(),
      advisoryDbBuiltAt: this.advisoryDbBuiltAt,
      sandbox,
      startedAt: entry.startedAt,
      timings: { totalMs: Date.now() - entry.startedAt.getTime() },
    };
  }

  private async recordDone(entry: RunningJob, result: JobScanResult): Promise<void> {
    const { job } = entry;
    const { store } = this.options;
    const meta = this.meta(entry);
    const finishedAt = new Date();
    const pullCount = job.data.pullCount ?? null;
    const outcome: JobOutcome = result.reports.length > 0 ? 'scanned' : result.linked.length > 0 ? 'linked' : 'skipped';
    const recorded = await this.record(entry, async (client) => {
      const scans: number[] = [];
      for (const report of result.reports) {
        scans.push((await store.recordScan(report, {
          rulesDigest: meta.rulesDigest, judgingDigest: this.options.pipeline.judgingDigest, startedAt: entry.startedAt, finishedAt, timings: meta.timings, sandbox: meta.sandbox ?? null, pullCount,
        }, client)).scanId);
      }
      for (const link of result.linked) await store.linkImage(link.reference, link.digest, link.platform, pullCount, client);
      for (const skip of result.skipped) scans.push(await store.recordSkippedScan(skip.image, skip.reason, meta, client));
      return { outcome, scans, linked: result.linked.map((l) => l.scanId) };
    });
    if (!recorded) return;
    const seconds = (Date.now() - entry.startedAt.getTime()) / 1000;
    if (outcome === 'scanned') this.options.metrics.scanned(seconds);
    this.options.metrics.finished(outcome);
    this.options.log(`${outcome} ${job.data.reference}: ${describeResult(result)} (${seconds.toFixed(1)} s)`);
  }

  /**
   * Runs `write` and completes the job in one transaction; tried again while the store is away (for about a lease).
   * False when nothing was recorded (the job was no longer held, or the store stayed away).
   */
  private async record(entry: RunningJob, write: (client: pg.PoolClient) => Promise<Record<string, unknown>>): Promise<boolean> {
    const { job } = entry;
    const { queue, store, log } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (entry.released) return false; // counted when released
      if (entry.lost) {
        this.options.metrics.finished('lost');
        return false;
      }
      try {
        await store.transaction(async (client) => {
          const output = await write(client);
          if (!(await queue.complete(job, client, output))) throw new LeaseLost();
        });
        return true;
      } catch (err) {
        if (err instanceof LeaseLost) {
          if (entry.released) return false;
          log(`${job.data.reference}: ${err.message}; nothing recorded`);
          this.options.metrics.finished('lost');
          return false;
        }
        if (classifyFailure(err) !== 'transient' || attempt >= MAX_RECORD_RETRIES) throw err;
        const wait = Math.min(this.options.leaseSeconds * 1000 / 4, 500 * 2 ** attempt);
        log(`${job.data.reference}: recording failed (${failureMessage(err)}); trying again in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait);
      }
    }
  }

  private async failed(entry: RunningJob, err: unknown, state: JobScanState, pulled: { registry: string; watch: RegistryWatch } | undefined): Promise<void> {
    const registry = pulled?.registry;
    const { job } = entry;
    const { gate, log, metrics, queue, store } = this.options;
    const kind = classifyFailure(err);
    if (entry.released) return;
    if (entry.lost) return metrics.finished('lost');
    if (kind === 'rate-limited' && pulled) {
      const until = await retryingStore(() => gate.rateLimited(pulled.registry, pulled.watch));
      return this.defer(entry, until, `${registry} rate-limits this worker (429)`);
    }
    if (kind === 'image' || (kind === 'rate-limited' && !pulled)) {
      const image = state.images.length === 1 ? state.images[0]! : { reference: job.data.reference };
      const reason = failureReason(err);
      const recorded = await this.record(entry, async (client) => {
        const scan = await store.recordFailedScan(image, state.stage, reason, this.meta(entry), client);
        return { outcome: 'failed', scans: [scan], stage: state.stage, reason };
      });
      if (!recorded) return;
      metrics.finished('failed');
      log(`failed ${job.data.reference}: ${state.stage}: ${failureMessage(err)} (recorded as a failed scan)`);
      return;
    }
    if (kind === 'registry' && registry) await gate.failed(registry).catch(() => {});
    const attempt = `attempt ${job.retryCount + 1} of ${job.retryLimit + 1}`;
    const result = await retryingStore(() => queue.fail(job, { message: failureMessage(err), stage: state.stage })).catch((failErr: unknown) => {
      log(`warning: could not fail ${job.data.reference} (${failureMessage(failErr)}); it comes back when its lease expires`);
      return 'unknown' as const;
    });
    if (result === 'retry') {
      metrics.finished('retried');
      log(`retry ${job.data.reference}: ${state.stage}: ${failureMessage(err)} (${attempt}; tried again later)`);
    } else if (result === 'dead') {
      metrics.finished('dead');
      log(`dead ${job.data.reference}: ${state.stage}: ${failureMessage(err)} (${attempt}, the last: in the dead-letter queue)`);
    } else if (result === 'lost') {
      metrics.finished('lost');
    }
  }

  private async defer(entry: RunningJob, until: Date, reason: string): Promise<void> {
    if (entry.released) return;
    const released = await retryingStore(() => this.options.queue.release(entry.job, until));
    this.options.metrics.finished(released ? 'deferred' : 'lost');
    if (released) this.options.log(`deferred ${entry.job.data.reference} until ${until.toISOString()}: ${reason}`);
  }
}

function describeResult(result: JobScanResult): string {
  const parts: string[] = [];
  for (const r of result.reports) parts.push(`${r.image.platform} ${r.image.digest.slice(0, 19)}… ${verdictWord(r)}`);
  for (const l of result.linked) parts.push(`${l.platform} ${l.digest.slice(0, 19)}… already scanned (scan ${l.scanId})`);
  for (const s of result.skipped) parts.push(`${s.image.platform} skipped: ${s.reason}`);
  return parts.join('; ') || 'no image';
}

function verdictWord(report: Report): string {
  return report.verdict.malicious ? `malicious (${report.verdict.categories.join(', ')})` : 'not malicious';
}

/** Job directories of worker processes that are gone (a killed worker's blobs). */
async function removeAbandonedJobDirs(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { recursive: true, force: true }).catch(() => {});
  }
}


/**
 * `detonate worker` as real processes on a real PostgreSQL and a real registry (Debian's docker-registry on
 * loopback), static-only: jobs shared by two workers, faults (a worker killed with SIGKILL mid-scan, SIGTERM,
 * PostgreSQL restarted mid-run, a registry answering 429), --drain, status and metrics. The one detonation test is
 * test/worker/detonate.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startRegistry, type RealRegistry } from '../support/registry.js';
import { RegistryProxy } from '../support/registry-proxy.js';
import { openStore } from '../../src/store/index.js';
import { ScanQueue, scanJobFor, type EnqueueOptions, type ScanJob } from '../../src/store/queue.js';
import { finished, pushTestImages, query, scanCounts, startWorker, until, type TestImage } from './helpers.js';

let server: TestPostgres;
let registry: RealRegistry;
let work: string;
let images: TestImage[];
let machines = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-worker-'));
  [server, registry] = await Promise.all([startTestPostgres(), startRegistry()]);
  images = await pushTestImages(registry, work, 8, 2);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.stop(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

/** A cache dir of its own per worker: each worker is a machine of its own, sharing only the store. */
const machine = (): NodeJS.ProcessEnv => ({ DETONATE_CACHE_DIR: join(work, `machine-${++machines}`) });

/** Static-only jobs for every tag of `which`, pulled through `host`. */
function jobsFor(host: string, which: readonly TestImage[] = images): ScanJob[] {
  return which.flatMap((image) => image.tags.map((tag) => scanJobFor(`${host}/${image.repository}:${tag}`, { staticOnly: true })));
}

async function enqueue(url: string, jobs: ScanJob[], options: EnqueueOptions = {}): Promise<void> {
  const store = await openStore({ kind: 'server', url });
  try {
    const queue = await ScanQueue.open(store);
    await queue.enqueue(jobs, { retryDelaySeconds: 1, ...options });
    await queue.close();
  } finally {
    await store.close();
  }
}

const workerArgs = (url: string, ...more: string[]) => ['--store', url, '--static-only', '--no-vulns', ...more];

/** Every image scanned exactly once, every tag linked to its digest, nothing failed, the queue empty. */
async function expectEachImageOnce(url: string, which: readonly TestImage[] = images): Promise<void> {
  const { doneByDigest, statuses } = await scanCounts(url);
  expect(statuses).toEqual({ done: which.length });
  expect([...doneByDigest.values()].every((n) => n === 1)).toBe(true);
  const tags = await query<{ repository: string; tag: string; digest: string }>(url, 'SELECT repository, tag, digest FROM images ORDER BY repository, tag');
  expect(tags.map((t) => `${t.repository}:${t.tag}`)).toEqual(which.flatMap((i) => i.tags.map((t) => `${i.repository}:${t}`)).sort());
  for (const image of which) expect(new Set(tags.filter((t) => t.repository === image.repository).map((t) => t.digest)).size).toBe(1);
  const jobs = await query<{ state: string; n: number }>(url, "SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name IN ('scan_static', 'scan_dead') AND state <> 'completed' GROUP BY state");
  expect(jobs).toEqual([]);
}

describe('detonate worker', () => {
  it('two workers share one store: each image scanned once, tags of one digest linked, a layer analysed by one is not pulled by the other', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      // the first image alone, so that its base layer is in the store before the others start
      await enqueue(url, jobsFor(proxy.host, images.slice(0, 1)));
      expect(await finished(startWorker(workerArgs(url, '--drain'), machine()))).toBe(0);
      await enqueue(url, jobsFor(proxy.host, images.slice(1)));
      const workers = [startWorker(workerArgs(url, '--drain'), machine()), startWorker(workerArgs(url, '--drain'), machine())];
      const codes = await Promise.all(workers.map((w) => finished(w)));
      expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);
      await expectEachImageOnce(url);
      // both took jobs
      for (const w of workers) expect(w.stderr()).toMatch(/^\S+ scanned /m);
      const base = images[0]!.built.layerDigests[0]!;
      expect(proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${base}`))).toHaveLength(1);
      const layers = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM layer_results');
      expect(layers[0]!.n).toBe(images.length + 1);

      const status = await runCli(['status', '--json', '--store', url], machine());
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({
        queue: { queued: 0, running: 0, dead: 0 }, scans: { done: images.length, failed: 0, skipped: 0 }, images: jobsFor(proxy.host).length,
        rate: { lastMinute: jobsFor(proxy.host).length }, etaSeconds: 0,
      });
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('crawl, then workers: every tag of the registry enqueued by `detonate crawl`, each image scanned once, its tags linked', async () => {
    const url = await server.freshDatabase();
    const crawl = await runCli(['crawl', `registry:${registry.host}`, '--store', url, '--tags', 'all', '--static-only', '--json']);
    expect(crawl.code, crawl.stderr).toBe(0);
    const tags = images.reduce((n, i) => n + i.tags.length, 0);
    expect(JSON.parse(crawl.stdout)).toMatchObject({ status: 'done', targets: tags, enqueued: tags });
    expect(await finished(startWorker(workerArgs(url, '--drain'), machine()))).toBe(0);
    await expectEachImageOnce(url);
    const status = await runCli(['status', '--store', url, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ scans: { done: images.length, failed: 0, skipped: 0 }, queue: { queued: 0, running: 0 }, crawls: [{ status: 'done', targets: tags }] });
  }, 180_000);

  it('--drain on an empty queue exits at once; an image that cannot be scanned is a failed scan with its stage, not a retry; one too large is skipped', async () => {
    const url = await server.freshDatabase();
    const empty = startWorker(workerArgs(url, '--drain'), machine());
    expect(await finished(empty, 30_000)).toBe(0);
    expect(empty.stderr()).toMatch(/the queue is empty; no jobs/);

    await enqueue(url, [
      scanJobFor(`${registry.host}/images/none:1`, { staticOnly: true }),
      scanJobFor(`${registry.host}/${images[2]!.repository}:1`, { staticOnly: true, maxImageSizeBytes: 100 }),
    ]);
    const worker = startWorker(workerArgs(url, '--drain'), machine());
    expect(await finished(worker)).toBe(0);
    const rows = await query(url, 'SELECT status, reference, failed_stage, reason, image_digest IS NOT NULL AS resolved FROM scans ORDER BY status');
    expect(rows).toEqual([
      { status: 'failed', reference: `${registry.host}/images/none:1`, failed_stage: 'resolve', reason: expect.stringMatching(/not found/), resolved: false },
      { status: 'skipped', reference: `${registry.host}/images/n2:1`, failed_stage: null, reason: expect.stringMatching(/^the image's layers are \d+ bytes, over the job's limit of 100$/), resolved: true },
    ]);
    expect(worker.stderr()).not.toMatch(/^\S+ (retry|dead) /m);
  }, 60_000);

  it('detonate queue failed|retry|cancel and status, on the dead-letter queue a registry that keeps failing leaves', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const broken = new RegistryProxy('127.0.0.1:1'); // nothing listens there: every request fails
      await broken.start();
      try {
        await enqueue(url, [scanJobFor(`${broken.host}/images/n0:1`, { staticOnly: true })], { retryLimit: 0 });
        const worker = startWorker(workerArgs(url, '--drain'), machine());
        expect(await finished(worker), worker.stderr()).toBe(0);
        expect(worker.stderr()).toMatch(/^\S+ dead .*images\/n0:1: resolve: .*\(attempt 1 of 1, the last: in the dead-letter queue\)/m);
      } finally {
        await broken.stop();
      }
      const failed = await runCli(['queue', 'failed', '--json', '--store', url], machine());
      expect(failed.code, failed.stderr).toBe(0);
      const dead = JSON.parse(failed.stdout) as Array<{ id: string; job: ScanJob; stage: string }>;
      expect(dead).toEqual([expect.objectContaining({ stage: 'resolve', job: expect.objectContaining({ repository: 'images/n0' }) })]);
      const text = await runCli(['status', '--store', url], machine());
      expect(text.stdout).toMatch(/^queue {7}0 queued, 0 running, 1 dead \(detonate queue failed\)$/m);

      expect((await runCli(['queue', 'retry', '--store', url], machine())).code).toBe(2);
      const retried = await runCli(['queue', 'retry', dead[0]!.id, '--store', url], machine());
      expect(retried.stderr).toBe('1 job(s) queued again\n');
      await enqueue(url, jobsFor(proxy.host, [images[1]!]));
      const cancelled = await runCli(['queue', 'cancel', '--registry', proxy.host, '--store', url], machine());
      expect(cancelled.stderr).toBe('2 job(s) cancelled\n');
      const status = JSON.parse((await runCli(['status', '--json', '--store', url], machine())).stdout) as { queue: { queued: number; cancelled: number; dead: number } };
      expect(status.queue).toMatchObject({ queued: 1, cancelled: 2, dead: 0 });
    } finally {
      await proxy.stop();
    }
  }, 90_000);

  it('a worker killed with SIGKILL mid-scan: another scans the image once its lease runs out; one result stored', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const slow = images[3]!;
      const held = proxy.hold(new RegExp(`/blobs/${slow.built.layerDigests[1]!}$`));
      await enqueue(url, jobsFor(proxy.host, [slow, images[4]!]));
      const doomed = startWorker(workerArgs(url, '--lease', '3s', '--concurrency', '1'), machine());
      await until(() => held.seen() > 0, 60_000, 'the first worker to pull the held layer');
      doomed.child.kill('SIGKILL');
      expect((await doomed.exited).signal).toBe('SIGKILL');
      held.release();
      const survivor = startWorker(workerArgs(url, '--drain', '--lease', '3s'), machine());
      expect(await finished(survivor), survivor.stderr()).toBe(0);
      await expectEachImageOnce(url, [slow, images[4]!]);
      const [job] = await query<{ retry_count: number }>(url, "SELECT retry_count FROM pgboss.job WHERE data->>'repository' = $1", [slow.repository]);
      expect(job!.retry_count).toBe(1); // the killed attempt, then the survivor's
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('SIGTERM: a job that does not finish within --stop-timeout is released, and another worker finishes it at once', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const slow = images[5]!;
      const held = proxy.hold(new RegExp(`/blobs/${slow.built.layerDigests[1]!}$`));
      await enqueue(url, jobsFor(proxy.host, [slow]));
      const stopping = startWorker(workerArgs(url, '--stop-timeout', '1s', '--lease', '2m'), machine());
      await until(() => held.seen() > 0, 60_000, 'the worker to pull the held layer');
      const signalled = Date.now();
      stopping.child.kill('SIGTERM');
      expect(await finished(stopping, 30_000)).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(15_000);
      expect(stopping.stderr()).toMatch(/released .*images\/n5:1: the worker stopped before it finished/);
      held.release();
      const next = startWorker(workerArgs(url, '--drain', '--lease', '2m'), machine());
      expect(await finished(next, 60_000), next.stderr()).toBe(0); // at once: a 2-minute lease would not have run out
      await expectEachImageOnce(url, [slow]);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('a registry answering 429 with Retry-After: every retry waits as asked, the registry is paused for all, nothing fails', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const which = images.slice(5, 8);
      // more 429s than the registry client tries a request: the first job is deferred, not failed
      proxy.tooManyRequests(/\/manifests\//, 6, 1);
      await enqueue(url, jobsFor(proxy.host, which));
      const worker = startWorker(workerArgs(url, '--drain', '--concurrency', '1'), machine());
      expect(await finished(worker), worker.stderr()).toBe(0);
      await expectEachImageOnce(url, which);
      expect(worker.stderr()).toMatch(/429 Too Many Requests \(Retry-After 1 s\); paused until/);
      expect(worker.stderr()).toMatch(/deferred .* rate-limits this worker \(429\)/);
      expect(worker.stderr()).not.toMatch(/^\S+ (retry|dead|failed) /m);
      const answered = proxy.requests;
      expect(answered.filter((r) => r.status === 429)).toHaveLength(6);
      answered.forEach((r, i) => {
        const next = answered[i + 1];
        if (r.status === 429 && next) expect(next.at - r.at, `request ${i + 1} after a 429`).toBeGreaterThanOrEqual(950);
      });
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('PostgreSQL restarted mid-run: the workers reconnect, everything finishes, nothing is lost or doubled', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const held = proxy.hold(/\/blobs\//);
      await enqueue(url, jobsFor(proxy.host));
      // one job at a time each: two held requests are both workers mid-scan
      const metricsWorker = startWorker(workerArgs(url, '--drain', '--lease', '20s', '--concurrency', '1', '--metrics-port', '0'), machine());
      const workers = [metricsWorker, startWorker(workerArgs(url, '--drain', '--lease', '20s', '--concurrency', '1'), machine())];
      const [, port] = await metricsWorker.waitFor(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
      await until(() => held.seen() >= 2, 60_000, 'both workers to be mid-scan');
      await server.restart(2000);
      held.release();
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^detonate_worker_running_jobs \d+$/m);
      expect(metrics).toMatch(/^detonate_queue_jobs\{state="queued"\} \d+$/m);
      expect(metrics).toMatch(/^# TYPE detonate_worker_scan_duration_seconds histogram$/m);
      const codes = await Promise.all(workers.map((w) => finished(w)));
      expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);
      await expectEachImageOnce(url);
      const outcomes = workers.map((w) => w.stderr()).join('\n');
      expect(outcomes).not.toMatch(/^\S+ (retry|dead|failed) /m);
    } finally {
      await proxy.stop();
    }
  }, 150_000);

  it('a worker started while PostgreSQL is down waits for it, then does its work; a wrong password ends it at once', async () => {
    const url = await server.freshDatabase();
    await enqueue(url, jobsFor(registry.host, images.slice(0, 2)));
    const restarting = server.restart(6000);
    await until(async () => !(await query(url, 'SELECT 1').then(() => true, () => false)), 20_000, 'the server to stop');
    const worker = startWorker(workerArgs(url, '--drain'), machine());
    await worker.waitFor(/waiting for the store: /, 30_000);
    await restarting;
    expect(await finished(worker), worker.stderr()).toBe(0);
    expect(worker.stderr()).toMatch(/the store answers/);
    await expectEachImageOnce(url, images.slice(0, 2));

    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const refused = startWorker(workerArgs(wrong.href, '--drain'), machine());
    expect(await finished(refused, 30_000)).toBe(2);
    expect(refused.stderr()).toMatch(/password authentication failed/);
    expect(refused.stderr()).not.toMatch(/waiting for the store/);
  }, 150_000);
});

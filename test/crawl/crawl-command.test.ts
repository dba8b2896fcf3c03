/**
 * `detonate crawl`: sources into the queue of a real PostgreSQL (a throwaway server on 127.0.0.1), from a real
 * registry on loopback (200 repositories) and a Docker Hub API stand-in. Resumption is tested the hard ways: the
 * command killed with SIGKILL mid-crawl (and the first jobs done by workers meanwhile, so the queue's own dedupe
 * cannot hide a second enqueue), PostgreSQL restarted mid-crawl, and a stop between batches.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrawl, type CrawlRunOptions } from '../../src/crawl/run.js';
import { CrawlLog } from '../../src/store/crawls.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ScanQueue } from '../../src/store/queue.js';
import { runCli } from '../support/cli.js';
import { FakeDockerHub, populateRegistry } from '../support/crawl-fixtures.js';
import { repoRoot } from '../support/paths.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { RegistryProxy } from '../support/registry-proxy.js';
import { startRegistry, type RealRegistry } from '../support/registry.js';
import { query, until } from '../worker/helpers.js';

const REPOSITORIES = Array.from({ length: 200 }, (_, i) => `team${String(i).padStart(3, '0')}/app`);
const TAGS = [
  { name: 'latest', created: '2026-01-03T00:00:00Z' },
  { name: 'v1', created: '2026-01-01T00:00:00Z' },
  { name: 'v2', created: '2026-01-02T00:00:00Z' },
];

let server: TestPostgres;
let registry: RealRegistry;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-crawl-'));
  [server, registry] = await Promise.all([startTestPostgres(), startRegistry()]);
  await populateRegistry(registry.host, REPOSITORIES, TAGS);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.stop(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

interface JobRow {
  reference: string;
  crawl: string;
  static: boolean;
  priority: number;
  state: string;
}

/** Every job the queue ever had (waiting, running, done), with its reference. */
const jobs = (url: string) =>
  query<JobRow>(url, "SELECT data->>'reference' AS reference, data->>'crawl' AS crawl, (data->>'staticOnly')::boolean AS static, priority, state::text AS state FROM pgboss.job WHERE name IN ('scan_static', 'scan_detonate') ORDER BY data->>'reference'");

const references = (host: string, tags: readonly string[] = ['latest']) => REPOSITORIES.flatMap((r) => tags.map((t) => `${host}/${r}:${t}`)).sort();

/** What workers would do: every waiting job done, so that the queue's one-per-reference rule no longer applies. */
const completeAll = (url: string) => query(url, "UPDATE pgboss.job SET state = 'completed', completed_on = now() WHERE state < 'active' RETURNING id");

async function withStore<T>(url: string, fn: (store: Store, queue: ScanQueue) => Promise<T>): Promise<T> {
  const store = await openStore({ kind: 'server', url });
  try {
    const queue = await ScanQueue.open(store);
    try {
      return await fn(store, queue);
    } finally {
      await queue.close();
    }
  } finally {
    await store.close();
  }
}

const crawlOf = (store: Store, queue: ScanQueue, more: Partial<CrawlRunOptions> = {}): CrawlRunOptions => ({
  store,
  queue,
  job: { staticOnly: true, detonateTimeoutMs: 30_000 },
  crawl: { retry: { baseDelayMs: 10 } },
  ...more,
});

describe('detonate crawl', () => {
  it('enqueues every tag of a 200-repository registry once; a second crawl adds nothing that is still queued', async () => {
    const url = await server.freshDatabase();
    const first = await runCli(['crawl', `registry:${registry.host}`, '--store', url, '--tags', 'all', '--static-only', '--json'], {}, 120_000);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as { status: string; targets: number; enqueued: number; alreadyQueued: number; resumed: boolean };
    expect(result).toMatchObject({ status: 'done', targets: 600, enqueued: 600, alreadyQueued: 0, resumed: false });
    expect(first.stderr).toMatch(new RegExp(`crawl registry:${registry.host} done: 600 images: 600 queued`));

    const queued = await jobs(url);
    expect(queued.map((j) => j.reference)).toEqual(references(registry.host, ['latest', 'v1', 'v2']));
    expect(queued.every((j) => j.static && j.crawl === `registry:${registry.host}`)).toBe(true);

    const status = await runCli(['status', '--store', url, '--format', 'json']);
    expect(status.code, status.stderr).toBe(0);
    const crawls = (JSON.parse(status.stdout) as { crawls: Array<{ source: string; status: string; targets: number; enqueued: number }> }).crawls;
    expect(crawls).toEqual([expect.objectContaining({ source: `registry:${registry.host}`, status: 'done', targets: 600, enqueued: 600 })]);
    expect((JSON.parse(status.stdout) as { queue: { queued: number } }).queue.queued).toBe(600);

    const again = await runCli(['crawl', `registry:${registry.host}`, '--store', url, '--tags', 'all', '--static-only', '--json'], {}, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'done', targets: 600, enqueued: 0, alreadyQueued: 600, resumed: false });
    expect(await jobs(url)).toHaveLength(600);
  }, 180_000);

  it('killed with SIGKILL mid-crawl and started again, it goes on after the last committed image: none enqueued twice, none lost', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      // the second hundred repositories wait (their latest tag's manifest): the first hundred are listed and committed
      const held = proxy.hold(/^\/v2\/team1\d\d\/app\/manifests\//);
      const spec = `registry:${proxy.host}`;
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'crawl', spec, '--store', url, '--static-only'], {
        cwd: repoRoot,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      await until(async () => (await query<{ targets: string }>(url, 'SELECT targets FROM crawls').catch(() => []))[0]?.targets === '100', 60_000, `the first hundred committed (${stderr})`);
      expect(held.seen()).toBeGreaterThan(0);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      held.release();

      expect((await jobs(url)).map((j) => j.reference)).toEqual(references(proxy.host).slice(0, 100));
      await completeAll(url);

      const resumed = await runCli(['crawl', spec, '--store', url, '--static-only', '--json'], {}, 120_000);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'done', resumed: true, targets: 100, enqueued: 100, pass: { targets: 200, enqueued: 200 } });
      expect(resumed.stderr).toMatch(/resumed; 200 in this crawl so far/);
      const all = await jobs(url);
      expect(all.map((j) => j.reference)).toEqual(references(proxy.host));
      // the catalog was read again, but of the first hundred only the cursor's own repository was looked at again
      const lookedAt = proxy.requests.filter((r) => /^\/v2\/team0\d\d\/app\/manifests\//.test(r.path)).map((r) => r.path.split('/')[2]);
      expect(lookedAt.filter((r) => r !== 'team099')).toHaveLength(99);
    } finally {
      await proxy.stop();
    }
  }, 180_000);

  it('goes on through a restart of PostgreSQL mid-crawl and records each image once', async () => {
    const url = await server.freshDatabase();
    const proxy = await new RegistryProxy(registry.host).start();
    try {
      const held = proxy.hold(/^\/v2\/team1\d\d\/app\/manifests\//);
      const result = await withStore(url, async (store, queue) => {
        const crawl = runCrawl(`registry:${proxy.host}`, crawlOf(store, queue, { batch: { maxTargets: 25, maxWaitMs: 200 } }));
        await until(async () => (await query<{ targets: string }>(url, 'SELECT targets FROM crawls'))[0]?.targets === '100', 60_000, 'the first hundred committed');
        expect(held.seen()).toBeGreaterThan(0);
        await server.restart(1000);
        held.release();
        return crawl;
      });
      expect(result).toMatchObject({ status: 'done', counts: { targets: 200, enqueued: 200 } });
      expect(result.error).toBeUndefined();
      expect((await jobs(url)).map((j) => j.reference)).toEqual(references(proxy.host));
      expect(await query(url, 'SELECT status, finished_at IS NOT NULL AS finished FROM crawls')).toEqual([{ status: 'done', finished: true }]);
    } finally {
      await proxy.stop();
    }
  }, 180_000);

  it('stopped between batches, it resumes; other options are another crawl; a crawl running elsewhere is not run twice; --restart starts over', async () => {
    const url = await server.freshDatabase();
    const spec = `registry:${registry.host}`;
    await withStore(url, async (store, queue) => {
      const stop = new AbortController();
      let commits = 0;
      const progress = { task: () => ({ update: () => void (++commits === 3 && stop.abort()), finish: () => {} }), log: () => {}, stop: () => {} };
      // the first update is the start line; two batches of 30 are committed, then the stop
      const first = await runCrawl(spec, crawlOf(store, queue, { batch: { maxTargets: 30, maxWaitMs: 60_000 }, signal: stop.signal, progress }));
      expect(first).toMatchObject({ status: 'stopped', counts: { targets: 60, enqueued: 60 } });
      expect(first.error).toBeUndefined();
      await completeAll(url);

      // another process holds the stopped crawl now: this one is refused, and waits for nothing
      const log = new CrawlLog(store);
      const other = await log.begin(spec, 'tags=latest order=name', {});
      await expect(runCrawl(spec, crawlOf(store, queue))).rejects.toThrow(/running in another process/);
      await other.release();

      // other options (--tags v… all) are a crawl of their own; the stopped one stays as it was
      const allTags = await runCrawl(spec, crawlOf(store, queue, { crawl: { tags: { mode: 'all' } } }));
      expect(allTags).toMatchObject({ status: 'done', resumed: false, counts: { targets: 600, enqueued: 600, alreadyQueued: 0 } });
      await completeAll(url);

      const rest = await runCrawl(spec, crawlOf(store, queue));
      expect(rest).toMatchObject({ status: 'done', resumed: true, counts: { targets: 140, enqueued: 140 }, pass: { targets: 200 } });
      const latest = (await jobs(url)).filter((j) => j.reference.endsWith(':latest')).map((j) => j.reference);
      // each :latest twice: once by the latest-tag crawl, once by the all-tags crawl; never twice by one crawl
      expect(latest).toEqual(references(registry.host).flatMap((r) => [r, r]));

      const restarted = await runCrawl(spec, crawlOf(store, queue, { restart: true }));
      expect(restarted).toMatchObject({ status: 'done', resumed: false, counts: { targets: 200 } });
      const passes = await query<{ plan: string; status: string; targets: string }>(url, 'SELECT plan, status, targets FROM crawls ORDER BY id');
      expect(passes).toEqual([
        { plan: 'tags=latest order=name', status: 'done', targets: '200' },
        { plan: 'tags=all order=name', status: 'done', targets: '600' },
        { plan: 'tags=latest order=name', status: 'done', targets: '200' },
      ]);
    });
  }, 180_000);

  it('from Docker Hub: most pulled first, pull counts on the jobs, images over --max-image-size recorded as skipped', async () => {
    const url = await server.freshDatabase();
    const hub = await new FakeDockerHub().start();
    try {
      const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
      hub.repositories.push(
        { namespace: 'acme', name: 'small', pull_count: 10, tags: [{ name: 'latest', digest: digest(1), full_size: 5_000_000 }] },
        { namespace: 'acme', name: 'popular', pull_count: 2_000_000, tags: [{ name: 'latest', digest: digest(2), full_size: 40_000_000 }] },
        { namespace: 'acme', name: 'huge', pull_count: 500, tags: [{ name: 'latest', digest: digest(3), full_size: 3_000_000_000 }] },
      );
      const env = { DETONATE_DOCKERHUB_API: hub.base };
      const run = await runCli(['crawl', 'dockerhub:acme', '--store', url, '--order', 'pulls', '--max-image-size', '1GB', '--detonate-timeout', '30s', '--json'], env, 120_000);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'done', targets: 3, enqueued: 2, skipped: 1 });
      const queued = await query<{ reference: string; pulls: string; priority: number; timeout: string; max: string; digest: string }>(
        url,
        "SELECT data->>'reference' AS reference, data->>'pullCount' AS pulls, priority, data->>'detonateTimeoutMs' AS timeout, data->>'maxImageSizeBytes' AS max, data->>'digest' AS digest FROM pgboss.job WHERE name = 'scan_detonate' ORDER BY priority DESC",
      );
      expect(queued).toEqual([
        { reference: 'docker.io/acme/popular:latest', pulls: '2000000', priority: 21, timeout: '30000', max: '1000000000', digest: digest(2) },
        { reference: 'docker.io/acme/small:latest', pulls: '10', priority: 3, timeout: '30000', max: '1000000000', digest: digest(1) },
      ]);
      const skipped = await query<{ reference: string; status: string; reason: string; malicious: boolean | null }>(url, 'SELECT reference, status, reason, malicious FROM scans');
      expect(skipped).toEqual([{ reference: 'docker.io/acme/huge:latest', status: 'skipped', reason: expect.stringMatching(/3\.0 GB .* over --max-image-size 1\.0 GB/), malicious: null }]);
    } finally {
      await hub.stop();
    }
  }, 120_000);

  it('a file source: bad lines are notices kept with the crawl; mistakes in the command are exit 2 before any store is opened', async () => {
    const url = await server.freshDatabase();
    const refs = join(work, 'refs.txt');
    writeFileSync(refs, `# images to scan\n${registry.host}/team000/app:v1\nnot a reference!\n\n${registry.host}/team001/app@sha256:${'a'.repeat(64)}\n`);
    const run = await runCli(['crawl', `file:${refs}`, '--store', url, '--static-only', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ targets: 2, enqueued: 2 });
    expect(run.stderr).toMatch(/notice: file:.*refs\.txt line 3: /);
    expect(await query(url, 'SELECT notice_count, cardinality(notices) AS kept FROM crawls')).toEqual([{ notice_count: 1, kept: 1 }]);

    const unreachable = 'postgres://nobody@127.0.0.1:1/none';
    for (const [args, message] of [
      [['crawl', 'ftp:example.test'], /unknown crawl source "ftp:example.test".*registry:HOST\[:PORT\], dockerhub:NAMESPACE/s],
      [['crawl', `registry:${registry.host}`, '--seed', 'x'], /--seed goes with --sample N/],
      [['crawl', `registry:${registry.host}`, '--tags', 'newest:0'], /invalid --tags "newest:0"/],
      [['crawl', `registry:${registry.host}`, '--max-image-size', 'big'], /"big" is not a size/],
    ] as const) {
      const bad = await runCli([...args, '--store', unreachable]);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr).not.toMatch(/127\.0\.0\.1:1/);
    }
  }, 120_000);
});

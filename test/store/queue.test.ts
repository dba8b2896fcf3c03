import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { openStore, RegistryLimits, type Store } from '../../src/store/index.js';
import { ScanQueue, scanJobFor, type LeasedJob } from '../../src/store/queue.js';
import { sampleReport } from './sample-report.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function withQueue<T>(fn: (queue: ScanQueue, store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
  const queue = await ScanQueue.open(store);
  try {
    return await fn(queue, store);
  } finally {
    await queue.close();
    await store.close();
  }
}

const job = (reference: string, staticOnly = true) => scanJobFor(reference, { staticOnly, detonateTimeoutMs: 30_000 });
const jobState = async (store: Store, id: string) =>
  (await store.pool.query<{ state: string }>('SELECT state::text AS state FROM pgboss.job WHERE id = $1', [id])).rows.map((r) => r.state);
const scans = async (store: Store) => Number((await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM scans')).rows[0]!.n);

describe('ScanQueue', () => {
  it('scanJobFor normalises the reference and names registry, repository and tag', () => {
    expect(scanJobFor('nginx', { staticOnly: true })).toEqual({
      reference: 'docker.io/library/nginx:latest', registry: 'docker.io', repository: 'library/nginx', tag: 'latest', staticOnly: true, detonateTimeoutMs: 60_000,
    });
    expect(scanJobFor('127.0.0.1:5000/a/b:1', { platform: 'linux/arm64', pullCount: 7, crawl: 'file:x' })).toMatchObject({
      reference: '127.0.0.1:5000/a/b:1', registry: '127.0.0.1:5000', repository: 'a/b', tag: '1', platform: 'linux/arm64', pullCount: 7, crawl: 'file:x', staticOnly: false,
    });
  });

  it('enqueue is idempotent while a job waits: one job per reference and platform', () =>
    withQueue(async (queue) => {
      expect(await queue.enqueue([job('r.test/a:1'), job('r.test/a:1'), job('r.test/a:2'), job('r.test/a:1', false)])).toEqual({ enqueued: 3, alreadyQueued: 1 });
      expect(await queue.enqueue([job('r.test/a:1'), job('r.test/a:3'), { ...job('r.test/a:1'), platform: 'linux/arm64' }])).toEqual({ enqueued: 2, alreadyQueued: 1 });
      const counts = await queue.counts();
      expect(counts).toMatchObject({ queued: 5, running: 0, dead: 0, byKind: { static: { queued: 4, running: 0 }, detonate: { queued: 1, running: 0 } } });
      // a running job does not block enqueueing the image again
      const [taken] = await queue.fetch('static', 1);
      expect(await queue.enqueue([taken!.data])).toEqual({ enqueued: 1, alreadyQueued: 0 });
      await expect(queue.enqueue([{ ...job('r.test/a:9'), detonateTimeoutMs: 0 }])).rejects.toThrow(/detonateTimeoutMs is not a positive integer/);
    }));

  it('jobs are taken in the order they were enqueued (within one call too), higher priority first', () =>
    withQueue(async (queue) => {
      const refs = Array.from({ length: 30 }, (_, i) => `r.test/a:${i}`);
      await queue.enqueue(refs.map((r) => job(r)));
      await queue.enqueue([job('r.test/b:low'), job('r.test/b:high')], { priority: (j) => (j.tag === 'high' ? 5 : 0) });
      const taken: string[] = [];
      // one at a time: the jobs of one fetch come back in no particular order
      for (let batch = await queue.fetch('static', 1); batch.length > 0; batch = await queue.fetch('static', 1)) taken.push(...batch.map((j) => j.data.reference));
      expect(taken).toEqual(['r.test/b:high', ...refs, 'r.test/b:low']);
    }));

  it('enqueue in the caller\'s transaction: rolled back with it', () =>
    withQueue(async (queue, store) => {
      await expect(store.transaction(async (client) => {
        expect(await queue.enqueue([job('r.test/a:1')], { client })).toEqual({ enqueued: 1, alreadyQueued: 0 });
        throw new Error('the crawl\'s cursor could not be saved');
      })).rejects.toThrow(/cursor/);
      expect((await queue.counts()).queued).toBe(0);
      await store.transaction((client) => queue.enqueue([job('r.test/a:1')], { client }));
      expect((await queue.counts()).queued).toBe(1);
    }));

  it('complete inside the store transaction: rolled back with the result, committed with it', () =>
    withQueue(async (queue, store) => {
      await queue.enqueue([job('r.test/a:1')]);
      const [leased] = await queue.fetch('static', 5);
      expect(leased).toMatchObject({ queue: 'scan_static', retryCount: 0, data: { reference: 'r.test/a:1' } });
      await expect(store.transaction(async (client) => {
        await store.recordScan(sampleReport(), { rulesDigest: 'r' }, client);
        expect(await queue.complete(leased!, client)).toBe(true);
        throw new Error('killed before commit');
      })).rejects.toThrow('killed before commit');
      expect(await jobState(store, leased!.id)).toEqual(['active']);
      expect(await scans(store)).toBe(0);
      await store.transaction(async (client) => {
        await store.recordScan(sampleReport(), { rulesDigest: 'r' }, client);
        expect(await queue.complete(leased!, client, { outcome: 'scanned' })).toBe(true);
      });
      expect(await jobState(store, leased!.id)).toEqual(['completed']);
      expect(await scans(store)).toBe(1);
      expect((await queue.rates()).lastMinute).toBe(1);
      expect(await queue.pending(['static', 'detonate'])).toBe(0);
    }));

  it('a job released, cancelled or fetched again after expiry is no longer held by the first worker', () =>
    withQueue(async (queue, store) => {
      await queue.enqueue([job('r.test/a:1'), job('r.test/a:2'), job('r.test/a:3')]);
      const [a, b, c] = await queue.fetch('static', 3) as [LeasedJob, LeasedJob, LeasedJob];
      expect(await queue.heartbeat(a, 60)).toBe(true);

      expect(await queue.release(a, new Date(Date.now() + 60_000))).toBe(true);
      expect(await queue.heartbeat(a, 60)).toBe(false);
      expect(await store.transaction((client) => queue.complete(a, client))).toBe(false);
      expect(await queue.counts()).toMatchObject({ queued: 1, later: 1, running: 2 });

      expect(await queue.cancel({ ids: [b.id] })).toBe(1);
      expect(await queue.heartbeat(b, 60)).toBe(false);
      expect(await queue.fail(b, { message: 'x' })).toBe('lost');

      // expiry: the lease runs out, maintenance puts the job back, another worker takes it
      await store.pool.query("UPDATE pgboss.job SET expire_in = interval '1 millisecond' WHERE id = $1", [c.id]);
      await store.pool.query("UPDATE pgboss.job SET retry_delay = 0, retry_backoff = false WHERE id = $1", [c.id]);
      const maintaining = await ScanQueue.open(store, { maintenanceIntervalSeconds: 1 });
      try {
        let again: LeasedJob | undefined;
        for (let i = 0; i < 100 && !again; i++) {
          [again] = await queue.fetch('static', 1);
          if (!again) await new Promise((r) => setTimeout(r, 100));
        }
        expect(again).toMatchObject({ id: c.id, retryCount: 1 });
        expect(await queue.heartbeat(c, 60)).toBe(false);
        expect(await queue.heartbeat(again!, 60)).toBe(true);
      } finally {
        await maintaining.close();
      }
    }));

  it('a claim on an image holds while its job runs; it lapses when the job is done, failed or released', () =>
    withQueue(async (queue, store) => {
      await queue.enqueue([job('r.test/a:1'), job('r.test/a:latest'), job('r.test/a:2')]);
      const [a, b, c] = await queue.fetch('static', 3) as [LeasedJob, LeasedJob, LeasedJob];
      expect(await queue.claim(a, 'sha256:d', 'linux/amd64')).toBe(true);
      expect(await queue.claim(a, 'sha256:d', 'linux/amd64')).toBe(true); // its own again
      expect(await queue.claim(b, 'sha256:d', 'linux/amd64')).toBe(false);
      expect(await queue.claim(b, 'sha256:d', 'linux/arm64')).toBe(true); // another platform
      await store.transaction((client) => queue.complete(a, client));
      expect(await queue.claim(c, 'sha256:d', 'linux/amd64')).toBe(true);
      expect(await queue.release(c)).toBe(true);
      expect(await queue.claim(b, 'sha256:d', 'linux/amd64')).toBe(true);
      // a killed worker's claim lapses with its lease: the job is fetched again with another retry count
      await store.pool.query("UPDATE pgboss.job SET state = 'retry', start_after = now() WHERE id = $1", [b.id]);
      const [again] = await queue.fetch('static', 1);
      expect(again).toMatchObject({ id: b.id, retryCount: 1 });
      const [d] = await queue.fetch('static', 1); // c's released copy
      expect(await queue.claim(d!, 'sha256:d', 'linux/amd64')).toBe(true);
    }));

  it('failed attempts are retried, then go to the dead-letter queue, from where they can be retried', () =>
    withQueue(async (queue) => {
      await queue.enqueue([job('r.test/a:1')], { retryLimit: 1, retryDelaySeconds: 1 });
      const [first] = await queue.fetch('static', 1);
      expect(await queue.fail(first!, { message: 'r.test answered 503', stage: 'resolve' })).toBe('retry');
      expect(await queue.fetch('static', 1)).toEqual([]); // backoff
      let second: LeasedJob | undefined;
      for (let i = 0; i < 60 && !second; i++) {
        [second] = await queue.fetch('static', 1);
        if (!second) await new Promise((r) => setTimeout(r, 100));
      }
      expect(second).toMatchObject({ id: first!.id, retryCount: 1 });
      expect(await queue.fail(second!, { message: 'r.test answered 503 again', stage: 'resolve' })).toBe('dead');
      const dead = await queue.deadLetters();
      expect(dead).toEqual([expect.objectContaining({ job: expect.objectContaining({ reference: 'r.test/a:1' }), error: 'r.test answered 503 again', stage: 'resolve' })]);
      expect((await queue.counts()).dead).toBe(1);
      expect(await queue.retryDead()).toEqual({ enqueued: 1, alreadyQueued: 0, notFound: 0 });
      expect(await queue.deadLetters()).toEqual([]);
      expect(await queue.counts()).toMatchObject({ queued: 1, dead: 0 });
      expect(await queue.retryDead(['00000000-0000-0000-0000-000000000000'])).toEqual({ enqueued: 0, alreadyQueued: 0, notFound: 1 });
    }));

  it('cancel by registry and all; the dead-letter queue is left alone unless named by id', () =>
    withQueue(async (queue) => {
      await queue.enqueue([job('a.test/x:1'), job('a.test/x:2'), job('b.test/x:1', false)]);
      expect(await queue.cancel({ registry: 'a.test' })).toBe(2);
      expect(await queue.counts()).toMatchObject({ queued: 1, cancelled: 2 });
      expect(await queue.cancel({ all: true })).toBe(1);
      expect(await queue.cancel({})).toBe(0);
      expect((await queue.counts()).queued).toBe(0);
    }));
});

describe('Store: scans a job can link to', () => {
  it('findDoneScan matches digest, platform and versions (a detonated scan for a job that detonates); linkImage points a tag at the digest', async () => {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      const report = sampleReport();
      const key = { digest: report.image.digest, platform: report.image.platform, rulesDigest: 'r', toolVersion: report.tool.version, advisoryDbBuiltAt: report.tool.advisoryDb!.builtAt };
      expect(await store.findDoneScan(key)).toBeNull();
      const { scanId } = await store.recordScan(report, { rulesDigest: 'r', sandbox: null }, undefined);
      expect(await store.findDoneScan(key)).toBe(scanId);
      expect(await store.findDoneScan({ ...key, detonated: true })).toBeNull();
      expect(await store.findDoneScan({ ...key, rulesDigest: 'other' })).toBeNull();
      expect(await store.findDoneScan({ ...key, advisoryDbBuiltAt: null })).toBeNull();
      await store.linkImage('r.test/app:latest', key.digest, key.platform, 42);
      const { rows } = await store.pool.query('SELECT registry, repository, tag, digest, pull_count FROM images WHERE tag = $1', ['latest']);
      expect(rows).toEqual([{ registry: 'r.test', repository: 'app', tag: 'latest', digest: key.digest, pull_count: '42' }]);
      expect(await store.layerDiffIdOf('sha256:blob')).toBeUndefined();
      await store.recordLayerBlob('sha256:blob', 'sha256:diff');
      await store.recordLayerBlob('sha256:blob', 'sha256:other'); // the first walk's answer stays
      expect(await store.layerDiffIdOf('sha256:blob')).toBe('sha256:diff');
    } finally {
      await store.close();
    }
  });
});

describe('RegistryLimits', () => {
  it('a token bucket per registry, shared through the store; a pause stops it, other registries go on', async () => {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      const limits = new RegistryLimits(store.pool, { capacity: 2, refillPerSecond: 1 });
      const other = new RegistryLimits(store.pool, { capacity: 2, refillPerSecond: 1 }); // another worker
      expect(await limits.take('r.test')).toEqual({ kind: 'taken', waitMs: 0 });
      expect(await other.take('r.test')).toEqual({ kind: 'taken', waitMs: 0 });
      const third = await limits.take('r.test');
      expect(third.kind).toBe('taken');
      expect(third.kind === 'taken' && third.waitMs).toBeGreaterThan(500);
      expect(third.kind === 'taken' && third.waitMs).toBeLessThanOrEqual(1000);
      await limits.giveBack('r.test');

      const until = new Date(Date.now() + 60_000);
      await other.pause('r.test', until, '429 Too Many Requests');
      expect(await limits.take('r.test')).toEqual({ kind: 'paused', until, reason: '429 Too Many Requests' });
      expect(await limits.take('s.test')).toEqual({ kind: 'taken', waitMs: 0 });
      // a shorter pause does not cut a longer one short
      await limits.pause('r.test', new Date(Date.now() + 1000), 'shorter');
      expect(await limits.take('r.test')).toMatchObject({ kind: 'paused', until });

      expect(await limits.recordFailure('s.test')).toBe(1);
      expect(await limits.recordFailure('s.test')).toBe(2);
      await limits.recordSuccess('s.test');
      expect(await limits.recordFailure('s.test')).toBe(1);

      await limits.configure('s.test', { capacity: 50, refillPerSecond: 10 });
      const rows = await limits.list();
      expect(rows.map((r) => r.registry)).toEqual(['r.test', 's.test']);
      expect(rows[0]).toMatchObject({ pauseReason: '429 Too Many Requests', configured: false });
      expect(rows[1]).toMatchObject({ capacity: 50, refillPerSecond: 10, configured: true, pausedUntil: null });
    } finally {
      await store.close();
    }
  });
});

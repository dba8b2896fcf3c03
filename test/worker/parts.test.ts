/** The worker's parts on their own: failure classes, the concurrency bound, rate-limit parsing and pauses, metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { RegistryError } from '../../src/image/registry/transport.js';
import { ImageError, DigestMismatchError } from '../../src/image/errors.js';
import { StoreError } from '../../src/store/errors.js';
import { openStore, RegistryLimits } from '../../src/store/index.js';
import { classifyFailure } from '../../src/worker/failure.js';
import { availableMemory, concurrencyBound } from '../../src/worker/concurrency.js';
import { DEFAULT_GATE_LIMITS, STATIC_JOB_MEMORY_BYTES } from '../../src/worker/limits.js';
import { RegistryGate, isRateLimited } from '../../src/worker/registry-gate.js';
import { WorkerMetrics } from '../../src/worker/metrics.js';
import { parseRateLimit } from '../../src/cli/worker.js';

const GiB = 1024 ** 3;

describe('classifyFailure', () => {
  it.each([
    ['429 after the client\'s retries', new RegistryError('r answered 429', undefined, false, 429, true), 'rate-limited'],
    ['503 after the client\'s retries', new RegistryError('r answered 503 after 4 attempts', undefined, false, 503, true), 'registry'],
    ['connection refused after retries', new RegistryError('could not connect (after 4 attempts)', undefined, false, undefined, true), 'registry'],
    ['manifest unknown', new RegistryError('image or tag not found', undefined, false, 404), 'image'],
    ['refused plain HTTP', new RegistryError('refusing plain HTTP', undefined, false), 'image'],
    ['a tampered layer', new DigestMismatchError('sha256:a', 'sha256:b'), 'image'],
    ['a malformed manifest', new ImageError('the manifest is not JSON'), 'image'],
    ['a parser bug on a hostile file', new TypeError("Cannot read properties of undefined (reading 'x')"), 'image'],
    ['the store is away', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'transient'],
    ['a dropped store connection', new Error('Connection terminated unexpectedly'), 'transient'],
    ['a store error', new StoreError('cannot open the scan queue'), 'transient'],
    ['a full disk', Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 'transient'],
  ])('%s: %s', (_what, err, kind) => {
    expect(classifyFailure(err)).toBe(kind);
  });
});

describe('concurrencyBound', () => {
  it('one per core, as many as three quarters of the available memory hold', () => {
    expect(concurrencyBound({ cores: 8, availableBytes: 64 * GiB })).toMatchObject({ concurrency: 8, memoryBound: 96 });
    expect(concurrencyBound({ cores: 8, availableBytes: 2 * GiB })).toMatchObject({ concurrency: 3 });
    // a detonating worker counts the sandbox's memory limit and its runtime
    expect(concurrencyBound({ cores: 8, availableBytes: 4 * GiB, sandboxMemoryBytes: 512 * 1024 ** 2 })).toMatchObject({ concurrency: 2, perJobBytes: STATIC_JOB_MEMORY_BYTES + 768 * 1024 ** 2 });
    expect(concurrencyBound({ cores: 1, availableBytes: 0 })).toMatchObject({ concurrency: 1 });
  });

  it('an asked concurrency above the cores stands (pulls wait on the network); above the memory it is lowered, saying why', () => {
    expect(concurrencyBound({ asked: 6, cores: 2, availableBytes: 64 * GiB })).toMatchObject({ concurrency: 6 });
    const lowered = concurrencyBound({ asked: 6, cores: 2, availableBytes: 2 * GiB });
    expect(lowered.concurrency).toBe(3);
    expect(lowered.lowered).toBe('--concurrency 6 lowered to 3: the memory available now holds 3 image(s) at 512 MiB each');
  });

  it('reads MemAvailable', () => {
    expect(availableMemory('MemTotal:       24684292 kB\nMemFree:        20000000 kB\nMemAvailable:   23000000 kB\n')).toBe(23_000_000 * 1024);
  });
});

describe('--rate-limit', () => {
  it('HOST=N per second, minute, hour or day; a burst of four seconds\' worth', () => {
    expect(parseRateLimit('ghcr.io=5/s')).toEqual({ registry: 'ghcr.io', settings: { capacity: 20, refillPerSecond: 5 } });
    expect(parseRateLimit('docker.io=100/h')).toEqual({ registry: 'docker.io', settings: { capacity: 1, refillPerSecond: 100 / 3600 } });
    expect(parseRateLimit('127.0.0.1:5000=30/m').settings.refillPerSecond).toBe(0.5);
    expect(() => parseRateLimit('docker.io')).toThrow(/is not HOST=RATE/);
    expect(() => parseRateLimit('docker.io=0/s')).toThrow(/is not HOST=RATE/);
  });

  it('local archives are not rate-limited', () => {
    expect(isRateLimited('oci-archive')).toBe(false);
    expect(isRateLimited('docker.io')).toBe(true);
  });
});

describe('RegistryGate', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a 429 pauses the registry for its Retry-After, Docker Hub\'s ratelimit-remaining: 0 for the time one pull comes back; others go on', async () => {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      const limits = new RegistryLimits(store.pool, { capacity: 5, refillPerSecond: 5 });
      const lines: string[] = [];
      const gate = new RegistryGate(limits, (l) => lines.push(l));
      expect(await gate.admit('a.test')).toEqual({ kind: 'go', waitedMs: 0 });

      const watch = gate.watch('a.test');
      watch.observer({ host: 'a.test', status: 200, headers: { 'ratelimit-remaining': '12;w=21600' } });
      watch.observer({ host: 'a.test', status: 429, headers: { 'retry-after': '30' } });
      await watch.settled();
      const paused = await gate.admit('a.test');
      expect(paused).toMatchObject({ kind: 'defer', reason: 'a.test is paused: 429 Too Many Requests (Retry-After 30 s)' });
      expect(paused.kind === 'defer' && paused.until.getTime() - Date.now()).toBeGreaterThan(28_000);
      expect(await gate.admit('b.test')).toMatchObject({ kind: 'go' });
      expect(await gate.rateLimited('a.test', watch)).toEqual(watch.lastPause());

      const hub = gate.watch('docker.io');
      hub.observer({ host: 'registry-1.docker.io', status: 200, headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' } });
      await hub.settled();
      const quota = await gate.admit('docker.io');
      expect(quota).toMatchObject({ kind: 'defer', reason: 'docker.io is paused: pull quota used up (ratelimit-remaining: 0)' });
      expect(quota.kind === 'defer' && quota.until.getTime() - Date.now()).toBeGreaterThan(200_000); // 21600 s / 100 pulls
      expect(lines.join('\n')).toMatch(/docker\.io: pull quota used up/);
    } finally {
      await store.close();
    }
  });

  it('a registry that keeps failing is paused after the third image in a row, longer each time; a success ends the run', async () => {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      const limits = new RegistryLimits(store.pool, { capacity: 5, refillPerSecond: 5 });
      const gate = new RegistryGate(limits, () => {});
      await gate.failed('c.test');
      await gate.failed('c.test');
      expect(await limits.pausedUntil('c.test')).toBeNull();
      await gate.failed('c.test');
      const first = (await limits.pausedUntil('c.test'))!.getTime() - Date.now();
      expect(first).toBeGreaterThan(DEFAULT_GATE_LIMITS.firstFailurePauseMs - 2000);
      await gate.failed('c.test');
      expect((await limits.pausedUntil('c.test'))!.getTime() - Date.now()).toBeGreaterThan(2 * DEFAULT_GATE_LIMITS.firstFailurePauseMs - 2000);
      await gate.succeeded('c.test');
      expect(await limits.recordFailure('c.test')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a bucket short of tokens makes a worker wait for the refill, or defers the job when the wait is long', async () => {
    const store = await openStore({ kind: 'server', url: await server.freshDatabase() });
    try {
      const limits = new RegistryLimits(store.pool, { capacity: 1, refillPerSecond: 4 });
      const gate = new RegistryGate(limits, () => {}, { ...DEFAULT_GATE_LIMITS, maxWaitMs: 1000 });
      expect(await gate.admit('d.test')).toEqual({ kind: 'go', waitedMs: 0 });
      const second = await gate.admit('d.test');
      expect(second.kind === 'go' && second.waitedMs).toBeGreaterThan(150);
      await limits.configure('d.test', { capacity: 1, refillPerSecond: 0.1 });
      const deferred = await gate.admit('d.test');
      expect(deferred).toMatchObject({ kind: 'defer', reason: expect.stringMatching(/d\.test's rate limit has no token for \d+ s/) });
    } finally {
      await store.close();
    }
  });
});

describe('WorkerMetrics', () => {
  it('Prometheus text: jobs by outcome, a cumulative duration histogram, layers by source, running jobs, the queue', () => {
    const m = new WorkerMetrics(2);
    m.finished('scanned');
    m.finished('scanned');
    m.finished('failed');
    m.scanned(0.7);
    m.scanned(40);
    m.running = 1;
    m.layer('store');
    m.layer('store');
    m.layer('analysed');
    const text = m.render({ queued: 5, later: 0, running: 2, dead: 1, cancelled: 0, byKind: { static: { queued: 5, running: 2 }, detonate: { queued: 0, running: 0 } } });
    expect(text).toContain('detonate_worker_jobs_total{outcome="scanned"} 2\n');
    expect(text).toContain('detonate_worker_jobs_total{outcome="failed"} 1\n');
    expect(text).toContain('detonate_worker_scan_duration_seconds_bucket{le="0.5"} 0\n');
    expect(text).toContain('detonate_worker_scan_duration_seconds_bucket{le="1"} 1\n');
    expect(text).toContain('detonate_worker_scan_duration_seconds_bucket{le="60"} 2\n');
    expect(text).toContain('detonate_worker_scan_duration_seconds_bucket{le="+Inf"} 2\n');
    expect(text).toContain('detonate_worker_scan_duration_seconds_sum 40.7\n');
    expect(text).toContain('detonate_worker_layers_total{source="store"} 2\n');
    expect(text).toContain('detonate_worker_layers_total{source="analysed"} 1\n');
    expect(text).toContain('detonate_worker_running_jobs 1\n');
    expect(text).toContain('detonate_queue_jobs{state="dead"} 1\n');
  });
});

/**
 * The one worker test that detonates: a job that asks for detonation, taken by a worker with a sandbox, recorded with
 * its run. Runs in the wall (a fresh network and mount namespace), like every detonation test; the store is a
 * throwaway PostgreSQL on the wall's own loopback.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Report, RunRecord } from '../../src/model/index.js';
import { openStore } from '../../src/store/index.js';
import { ScanQueue, scanJobFor } from '../../src/store/queue.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { sampleProgram, writeBusyboxImage } from '../detonate/fixtures/samples/images.js';
import { finished, query, startWorker } from './helpers.js';

const busybox = findBusybox();
const runtimes = (['gvisor', 'runc'] as const).filter((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/worker/detonate.test.ts',
  title: 'detonate worker (detonation)',
  expectPassed: 1,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : runtimes.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

wall.describe(() => {
  let work: string;
  let server: TestPostgres;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-worker-detonate-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    server = await startTestPostgres();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a job that asks for detonation is run in the sandbox and recorded with its run record and verdict', async () => {
    const miner = join(work, 'miner.tar');
    await writeBusyboxImage(miner, busybox!, sampleProgram('miner.sh'));
    const url = await server.freshDatabase();
    const store = await openStore({ kind: 'server', url });
    try {
      const queue = await ScanQueue.open(store);
      await queue.enqueue([scanJobFor(`oci-archive:${miner}`, { staticOnly: false, detonateTimeoutMs: 8000 })]);
      await queue.close();
    } finally {
      await store.close();
    }
    const worker = startWorker(['--store', url, '--drain', '--no-vulns', '--sandbox', runtimes[0]!], { DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') });
    expect(await finished(worker, 120_000), worker.stderr()).toBe(0);
    expect(worker.stderr()).toMatch(/queues detonate and static/);
    const [scan] = await query<{ status: string; sandbox: string; malicious: boolean; categories: string[]; report: Report }>(url, 'SELECT status, sandbox, malicious, categories, report FROM scans');
    expect(scan).toMatchObject({ status: 'done', sandbox: runtimes[0], malicious: true });
    expect(scan!.categories).toContain('cryptominer');
    const run = scan!.report.behavior as RunRecord;
    expect(run.sandbox).toBe(runtimes[0]);
    expect(run.connections).toContainEqual(expect.objectContaining({ protocol: 'stratum', port: 3333 }));
    const indicators = await query<{ kind: string; value: string }>(url, "SELECT kind, value FROM scan_indicators WHERE kind = 'pool'");
    expect(indicators.map((i) => i.value)).toContain('pool.example.test:3333');
  }, 150_000);
});

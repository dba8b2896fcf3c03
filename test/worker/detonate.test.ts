/**
 * The worker tests that detonate: a job that asks for detonation, taken by a worker with a sandbox, recorded with
 * its run; and a worker stopped (SIGTERM) in the middle of a detonation. Runs in the wall (a fresh network and mount namespace), like every detonation test; the store is a
 * throwaway PostgreSQL on the wall's own loopback.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Report, RunRecord } from '../../src/model/index.js';
import { openStore } from '../../src/store/index.js';
import { ScanQueue, scanJobFor } from '../../src/store/queue.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { sampleProgram, writeBusyboxImage } from '../detonate/fixtures/samples/images.js';
import { processesMentioning } from '../support/leftovers.js';
import { finished, query, startWorker, until } from './helpers.js';

const busybox = findBusybox();
const runtimes = (['gvisor', 'runc'] as const).filter((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/worker/detonate.test.ts',
  title: 'detonate worker (detonation)',
  expectPassed: 3,
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

  it('SIGTERM mid-detonation: the run goes on for --stop-timeout, then is torn down and its job released, nothing recorded; another worker scans it', async () => {
    const webServer = join(work, 'server.tar');
    await writeBusyboxImage(webServer, busybox!, sampleProgram('webserver.sh'), [{ name: 'www/', type: 'directory' }, { name: 'www/index.html', content: '<p>hello</p>\n' }]);
    const url = await server.freshDatabase();
    const store = await openStore({ kind: 'server', url });
    try {
      const queue = await ScanQueue.open(store);
      await queue.enqueue([scanJobFor(`oci-archive:${webServer}`, { staticOnly: false, detonateTimeoutMs: 20_000 })]);
      await queue.close();
    } finally {
      await store.close();
    }
    const runs = join(work, 'runs-stop');
    const env = { DETONATE_CACHE_DIR: join(work, 'cache-stop'), DETONATE_WORK_DIR: runs };
    const worker = startWorker(['--store', url, '--no-vulns', '--sandbox', runtimes[0]!, '--stop-timeout', '2s'], env);
    // the detonation has begun (its run dir exists); a few seconds later the sample is serving
    await until(() => existsSync(runs) && readdirSync(runs).some((d) => d.startsWith('detonate-')), 90_000, `a detonation running (${worker.stderr()})`);
    await new Promise((r) => setTimeout(r, 3000));
    worker.child.kill('SIGTERM');
    expect(await finished(worker, 90_000), worker.stderr()).toBe(0);
    expect(worker.stderr()).toMatch(/released oci-archive:.*server\.tar: the worker stopped before it finished/);
    expect(worker.stderr()).not.toMatch(/^.*(done|failed) oci-archive/m);
    expect(await query(url, 'SELECT status FROM scans')).toEqual([]);
    // torn down before the worker exited: no run dir, no sandbox process
    expect(readdirSync(runs).filter((d) => d.startsWith('detonate-'))).toEqual([]);
    expect(processesMentioning([runs])).toEqual([]);
    const [job] = await query<{ state: string; retry_count: number }>(url, "SELECT state::text AS state, retry_count FROM pgboss.job WHERE name = 'scan_detonate'");
    expect(job).toEqual({ state: 'created', retry_count: 0 });

    const next = startWorker(['--store', url, '--drain', '--no-vulns', '--sandbox', runtimes[0]!], { ...env, DETONATE_CACHE_DIR: join(work, 'cache-stop-2') });
    expect(await finished(next, 150_000), next.stderr()).toBe(0);
    const scans = await query<{ status: string; sandbox: string; report: Report }>(url, 'SELECT status, sandbox, report FROM scans');
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatchObject({ status: 'done', sandbox: runtimes[0] });
    expect((scans[0]!.report.behavior as RunRecord).processes.length).toBeGreaterThan(0);
  }, 300_000);

  it('crawl a registry holding a miner and a web server, detonate both: the miner is judged malicious from its run, the server not', async () => {
    const registry = await startRegistry();
    try {
      const miner = join(work, 'crawl-miner.tar');
      const web = join(work, 'crawl-web.tar');
      await writeBusyboxImage(miner, busybox!, sampleProgram('miner.sh'));
      await writeBusyboxImage(web, busybox!, sampleProgram('webserver.sh'), [{ name: 'www/', type: 'directory' }, { name: 'www/index.html', content: '<p>hello</p>\n' }]);
      await registry.push(`oci-archive:${miner}`, 'samples/miner:6.21');
      await registry.push(`oci-archive:${miner}`, 'samples/miner:latest');
      await registry.push(`oci-archive:${web}`, 'samples/web:1');
      const url = await server.freshDatabase();
      const env = { DETONATE_CACHE_DIR: join(work, 'cache-crawl'), DETONATE_WORK_DIR: join(work, 'runs-crawl') };
      const crawl = await runCli(['crawl', `registry:${registry.host}`, '--store', url, '--tags', 'all', '--detonate-timeout', '8s', '--format', 'json'], env);
      expect(crawl.code, crawl.stderr).toBe(0);
      expect(JSON.parse(crawl.stdout)).toMatchObject({ status: 'done', targets: 3, enqueued: 3 });
      const worker = startWorker(['--store', url, '--drain', '--no-vulns', '--sandbox', runtimes[0]!], env);
      expect(await finished(worker, 240_000), worker.stderr()).toBe(0);
      const scans = await query<{ reference: string; malicious: boolean; categories: string[]; sandbox: string }>(url, "SELECT reference, malicious, categories, sandbox FROM scans WHERE status = 'done' ORDER BY reference");
      // the miner's two tags are one digest: scanned once, both tags linked to it
      expect(scans).toHaveLength(2);
      const byRepo = new Map(scans.map((s) => [s.reference.includes('/samples/miner:') ? 'miner' : 'web', s]));
      expect(byRepo.get('miner')).toMatchObject({ malicious: true, sandbox: runtimes[0] });
      expect(byRepo.get('miner')!.categories).toContain('cryptominer');
      expect(byRepo.get('web')).toMatchObject({ malicious: false, sandbox: runtimes[0] });
      const tags = await query<{ tag: string; digest: string }>(url, "SELECT tag, digest FROM images WHERE repository = 'samples/miner' ORDER BY tag");
      expect(tags.map((t) => t.tag)).toEqual(['6.21', 'latest']);
      expect(new Set(tags.map((t) => t.digest)).size).toBe(1);
    } finally {
      await registry.stop();
    }
  }, 300_000);
});

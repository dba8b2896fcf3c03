/**
 * `npm run bench` (registry scale, issue 13): `detonate worker` throughput from a real registry on loopback
 * (Debian's docker-registry) into a real store (a throwaway PostgreSQL on 127.0.0.1), workers as real processes.
 *
 * 1. Static only: `BENCH_SCALE_IMAGES` (default 300) small distinct images (bench/scale-images.ts: busybox, Debian
 *    and Alpine bases with their package databases, Python and Node runtimes, dependency layers shared by groups,
 *    an app layer each), scanned by 1 worker at --concurrency 1, by 1 worker at its default concurrency, and by 2
 *    workers at theirs, each run into an empty store. Goal: ≥ 2,000 images/h.
 * 2. With detonation, 30 s budget: `BENCH_SCALE_DETONATE_IMAGES` (default 16) busybox images running the detonation
 *    tests' samples, half of them services that run until the budget, half programs that exit (see DETONATION_MIX),
 *    one worker with a sandbox. Goal: ≥ 100 images/h. Like the detonation tests it runs inside a fresh network and
 *    mount namespace (the script re-executes itself under `unshare --net --mount`, the registry and PostgreSQL on
 *    that namespace's loopback); needs root and runsc or runc, else it says so and skips.
 * 3. Store size per image (what the store's tables grew by in the run, and pg-boss's tables) and the layer dedupe's hit rate (layer results taken
 *    from the store / all layers of the scanned images, from the workers' last log lines), against the best rate
 *    the image set allows (1 - distinct layers / layer uses).
 *
 * Jobs are enqueued as the crawl does (`ScanQueue.enqueue` of `scanJobFor`); the clock runs from the first job
 * taken to the last one completed (pg-boss's own timestamps), so worker start-up is not counted (it is shown).
 * The workers run with `--rate-limit <the registry>=1000/s`: the default bucket (5 images/s per registry, shared by
 * every worker) would otherwise be what is measured, 18,000 images/h however many workers run.
 * Missing a goal prints "below goal" and still exits 0; a failed scan, a dead job or a worker's error exits 1.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../src/detonate/network/exec.js';
import { DEFAULT_REGISTRY_BUCKET } from '../src/worker/limits.js';
import { openStore } from '../src/store/index.js';
import { ScanQueue, scanJobFor, type ScanJob } from '../src/store/queue.js';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres.js';
import { startRegistry, type RealRegistry } from '../test/support/registry.js';
import { finished, query, startWorker, type WorkerProcess } from '../test/worker/helpers.js';
import { sampleProgram } from '../test/detonate/fixtures/samples/images.js';
import { detonationImageSet, layerTally, pushImages, staticImageSet, type BenchImage } from './scale-images.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const STATIC_IMAGES = Number(process.env.BENCH_SCALE_IMAGES ?? 300);
const DETONATE_IMAGES = Number(process.env.BENCH_SCALE_DETONATE_IMAGES ?? 16);
const DETONATE_TIMEOUT_MS = 30_000;
const STATIC_GOAL_PER_HOUR = 2000;
const DETONATE_GOAL_PER_HOUR = 100;
const WALL_ENV = 'DETONATE_BENCH_SCALE_WALL';
/** The bench's registry bucket: far above what one machine scans, so the workers, not the bucket, are measured. */
const BENCH_RATE_LIMIT = '1000/s';
const corpusVuln = join(root, '..', 'shared', 'corpus', 'vuln');

/**
 * The detonation set, in order (`BENCH_SCALE_DETONATE_IMAGES` takes the first N, cycling): about half services that
 * run until the budget (most of a public registry's images are servers and daemons), half programs that exit on
 * their own, at once or after some seconds (tools, bases whose shell exits without a terminal, one-shot jobs), with
 * the malicious samples among both.
 */
const DETONATION_MIX: readonly { name: string; script: string; runs: 'budget' | 'exits' }[] = [
  { name: 'webserver', script: sampleProgram('webserver.sh'), runs: 'budget' },
  { name: 'tool-version', script: '#!/bin/sh\necho "tool 1.4.2"\n', runs: 'exits' },
  { name: 'miner', script: sampleProgram('miner.sh'), runs: 'exits' },
  { name: 'daemon-loop', script: '#!/bin/sh\nwhile :; do date > /tmp/heartbeat; sleep 5; done\n', runs: 'budget' },
  { name: 'persistence', script: sampleProgram('persistence.sh'), runs: 'exits' },
  { name: 'crowd', script: sampleProgram('crowd.sh'), runs: 'budget' },
  { name: 'hostinfo', script: sampleProgram('hostinfo.sh'), runs: 'exits' },
  { name: 'reverse-shell', script: sampleProgram('reverse-shell.sh'), runs: 'budget' },
  { name: 'dropper', script: sampleProgram('dropper.sh'), runs: 'exits' },
  { name: 'webserver-2', script: `${sampleProgram('webserver.sh')}# second service\n`, runs: 'budget' },
  { name: 'shell-base', script: '#!/bin/sh\nexit 0\n', runs: 'exits' },
  { name: 'flood', script: sampleProgram('flood.sh'), runs: 'exits' },
  { name: 'daemon-loop-2', script: '#!/bin/sh\n# queue consumer\nwhile :; do sleep 2; done\n', runs: 'budget' },
  { name: 'diskfill', script: sampleProgram('diskfill.sh'), runs: 'exits' },
  { name: 'webserver-3', script: `${sampleProgram('webserver.sh')}# third service\n`, runs: 'budget' },
  { name: 'batch-job', script: '#!/bin/sh\ni=0; while [ $i -lt 5 ]; do echo step $i; sleep 1; i=$((i+1)); done\n', runs: 'exits' },
];

interface RunFigures {
  label: string;
  workers: number;
  concurrency: number;
  images: number;
  seconds: number;
  perHour: number;
  /** Spawn to the first job taken. */
  startupSeconds: number;
  /** Mean time of a job from fetch to record, as the workers logged it. */
  meanJobSeconds: number;
  layersFromStore: number;
  layersAnalysed: number;
  layerResultRows: number;
  storeBytes: number;
  /** The store's tables before the run: the schema's empty tables and indexes. */
  emptyStoreBytes: number;
  queueBytes: number;
  /** CPU seconds of the workers, the registry and PostgreSQL over the run (start-up included). */
  cpuSeconds: Record<string, number>;
  /** The sandboxes the scans ran in (none: static only). */
  sandboxes: string[];
  failures: string[];
}

/**
 * CPU time of the processes a run uses (the workers, the registry, the PostgreSQL server and its backends), read from
 * /proc every 250 ms: on a shared machine the wall clock says how busy the machine was, the CPU per image what the
 * work costs. A process's last 250 ms before it exits are not counted.
 */
class CpuSampler {
  private readonly last = new Map<number, { group: string; ticks: number }>();
  /** Ticks of the processes already running at the first sample, not counted. */
  private readonly before = new Map<number, number>();
  private first = true;
  private readonly timer: NodeJS.Timeout;
  private static readonly TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

  constructor(private readonly groupOf: (pid: number, ppid: number, cmdline: string) => string | undefined) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  private sample(): void {
    const postmasters = new Set<number>();
    const rows: { pid: number; ppid: number; cmdline: string; ticks: number }[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        rows.push({ pid: Number(name), ppid: Number(f[1]), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '), ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        // gone
      }
    }
    const keep = (pid: number, group: string, ticks: number) => {
      if (this.first) this.before.set(pid, ticks);
      this.last.set(pid, { group, ticks });
    };
    for (const r of rows) {
      const group = this.groupOf(r.pid, r.ppid, r.cmdline);
      if (group === 'postgres') postmasters.add(r.pid);
      if (group) keep(r.pid, group, r.ticks);
    }
    for (const r of rows) if (postmasters.has(r.ppid)) keep(r.pid, 'postgres', r.ticks);
    this.first = false;
  }

  /** Seconds of CPU per group since the sampler started (processes already running then count from their start). */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, number> = {};
    for (const [pid, { group, ticks }] of this.last) out[group] = (out[group] ?? 0) + (ticks - (this.before.get(pid) ?? 0)) / CpuSampler.TICKS_PER_SECOND;
    return out;
  }
}

/** The run's processes: workers on `storeUrl`, the registry serving `registryHost`, the server on `storeUrl`'s port. */
function runProcesses(storeUrl: string, registryHost: string): (pid: number, ppid: number, cmdline: string) => string | undefined {
  const port = new URL(storeUrl).port;
  const registries = new Map<number, boolean>();
  return (pid, _ppid, cmdline) => {
    if (cmdline.includes(' worker ') && cmdline.includes(storeUrl)) return 'workers';
    if (cmdline.startsWith('/usr/lib/postgresql/') && cmdline.includes(` -p ${port} `)) return 'postgres';
    if (cmdline.startsWith('/usr/bin/docker-registry serve ')) {
      if (!registries.has(pid)) {
        let ours = false;
        try {
          ours = readFileSync(cmdline.split(' ')[2]!, 'utf8').includes(`addr: ${registryHost}`);
        } catch {
          // gone
        }
        registries.set(pid, ours);
      }
      return registries.get(pid) ? 'registry' : undefined;
    }
    return undefined;
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kib = (bytes: number) => `${fmt(bytes / 1024, 1)} KiB`;

async function enqueue(url: string, jobs: ScanJob[]): Promise<void> {
  const store = await openStore({ kind: 'server', url });
  try {
    const queue = await ScanQueue.open(store);
    const { enqueued } = await queue.enqueue(jobs);
    await queue.close();
    if (enqueued !== jobs.length) throw new Error(`enqueued ${enqueued} of ${jobs.length} jobs`);
  } finally {
    await store.close();
  }
}

/** Bytes of the store's own tables (schema public) and of pg-boss's (schema pgboss), indexes and TOAST included. */
async function storeSizes(url: string): Promise<{ store: number; queue: number }> {
  const [row] = await query<{ store: string; queue: string }>(
    url,
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE n.nspname = 'public'), 0)::text AS store,
            coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE n.nspname = 'pgboss'), 0)::text AS queue
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'pgboss')`,
  );
  return { store: Number(row!.store), queue: Number(row!.queue) };
}

/** Runs `workers` worker processes on the jobs of `images` in a fresh database of `server`; what they did. */
async function measure(options: {
  label: string;
  server: TestPostgres;
  registry: RealRegistry;
  images: readonly BenchImage[];
  workers: number;
  concurrency?: number;
  staticOnly: boolean;
  workerArgs: string[];
  env: (n: number) => NodeJS.ProcessEnv;
  timeoutMs: number;
}): Promise<RunFigures> {
  const url = await options.server.freshDatabase();
  await enqueue(url, options.images.map((i) => scanJobFor(`${options.registry.host}/${i.repository}:${i.tag}`, { staticOnly: options.staticOnly, detonateTimeoutMs: DETONATE_TIMEOUT_MS })));
  const args = [
    '--store', url, '--drain', '--rate-limit', `${options.registry.host}=${BENCH_RATE_LIMIT}`,
    ...(options.concurrency !== undefined ? ['--concurrency', String(options.concurrency)] : []), ...options.workerArgs,
  ];
  const empty = await storeSizes(url); // the schema and the queued jobs, before any scan
  const cpu = new CpuSampler(runProcesses(url, options.registry.host));
  const spawnedAt = Date.now();
  const workers: WorkerProcess[] = Array.from({ length: options.workers }, (_, n) => startWorker(args, options.env(n)));
  const codes = await Promise.all(workers.map((w) => finished(w, options.timeoutMs)));
  const cpuSeconds = cpu.stop();
  const failures: string[] = [];
  codes.forEach((code, n) => {
    if (code !== 0) failures.push(`worker ${n + 1} exited with ${code}:\n${workers[n]!.stderr().slice(-3000)}`);
  });
  const logs = workers.map((w) => w.stderr()).join('');
  const concurrency = Math.max(...workers.map((w) => Number(/; (\d+) at once/.exec(w.stderr())?.[1] ?? 0)));
  const [times] = await query<{ first: Date | null; last: Date | null; n: number }>(
    url,
    `SELECT min(started_on) AS first, max(completed_on) AS last, count(*)::int AS n FROM (
       SELECT started_on, completed_on FROM pgboss.job WHERE name LIKE 'scan\\_%' AND name <> 'scan_dead' AND state = 'completed'
       UNION ALL
       SELECT started_on, completed_on FROM pgboss.archive WHERE name LIKE 'scan\\_%' AND name <> 'scan_dead' AND state = 'completed') j`,
  );
  const statuses = await query<{ status: string; n: number }>(url, 'SELECT status, count(*)::int AS n FROM scans GROUP BY status');
  const done = statuses.find((s) => s.status === 'done')?.n ?? 0;
  for (const s of statuses) if (s.status !== 'done') failures.push(`${s.n} scan(s) ${s.status}`);
  if (done !== options.images.length) failures.push(`${done} scans done of ${options.images.length} images`);
  const [dead] = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'scan_dead'");
  if (dead!.n > 0) failures.push(`${dead!.n} job(s) in the dead-letter queue`);
  for (const m of logs.matchAll(/^\S+ (failed|dead|retry) (.*)$/gm)) failures.push(`${m[1]} ${m[2]}`);
  const [rows] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM layer_results');
  const jobSeconds = [...logs.matchAll(/^\S+ scanned .* \((\d+(?:\.\d+)?) s\)$/gm)].map((m) => Number(m[1]));
  let fromStore = 0;
  let analysed = 0;
  for (const m of logs.matchAll(/layers: (\d+) analysed, (\d+) from the store/g)) {
    analysed += Number(m[1]);
    fromStore += Number(m[2]);
  }
  const sizes = await storeSizes(url);
  const sandboxes = (await query<{ sandbox: string }>(url, 'SELECT DISTINCT sandbox FROM scans WHERE sandbox IS NOT NULL ORDER BY sandbox')).map((r) => r.sandbox);
  const seconds = times?.first && times.last ? (times.last.getTime() - times.first.getTime()) / 1000 : NaN;
  return {
    label: options.label,
    workers: options.workers,
    concurrency,
    images: done,
    seconds,
    perHour: (done / seconds) * 3600,
    startupSeconds: times?.first ? (times.first.getTime() - spawnedAt) / 1000 : NaN,
    meanJobSeconds: jobSeconds.reduce((a, b) => a + b, 0) / Math.max(1, jobSeconds.length),
    layersFromStore: fromStore,
    layersAnalysed: analysed,
    layerResultRows: rows!.n,
    storeBytes: sizes.store,
    emptyStoreBytes: empty.store,
    queueBytes: sizes.queue,
    cpuSeconds,
    sandboxes,
    failures,
  };
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

function printRun(r: RunFigures): void {
  const layers = r.layersFromStore + r.layersAnalysed;
  console.log(
    `${r.label}: ${r.images} images in ${fmt(r.seconds, 1)} s = ${fmt(r.perHour)} images/h ` +
      `(${r.workers} worker${r.workers > 1 ? 's' : ''} × ${r.concurrency} at once; start-up ${fmt(r.startupSeconds, 1)} s not counted; ` +
      `a job ${fmt(r.meanJobSeconds, 2)} s on average, fetch to record; load average now ${load()})`,
  );
  console.log(
    `  store: ${kib((r.storeBytes - r.emptyStoreBytes) / Math.max(1, r.images))} per image (${kib(r.storeBytes)} in all, ${kib(r.emptyStoreBytes)} of it the empty schema; ` +
      `the queue's pg-boss tables ${kib(r.queueBytes)} more); ` +
      `layer dedupe: ${r.layersFromStore} of ${layers} layers from the store = ${fmt((100 * r.layersFromStore) / Math.max(1, layers), 1)}%, ` +
      `${r.layersAnalysed} analysed (${r.layerResultRows} layer results stored)`,
  );
  const cpu = (group: string) => r.cpuSeconds[group] ?? 0;
  const perImageMs = (group: string) => fmt((1000 * cpu(group)) / Math.max(1, r.images));
  const total = cpu('workers') + cpu('registry') + cpu('postgres');
  const bound = `at most ${fmt((availableParallelism() * 3600 * r.images) / Math.max(total, 1e-9))} images/h if these ${availableParallelism()} cores did nothing else`;
  console.log(
    `  CPU per image: workers ${perImageMs('workers')} ms, registry ${perImageMs('registry')} ms, PostgreSQL ${perImageMs('postgres')} ms ` +
      `(worker start-up included${r.sandboxes.length > 0 ? `; the sandboxes' own not counted: a run is bounded by its budget, not by CPU; sandbox ${r.sandboxes.join(', ')})` : `): ${bound}`}`,
  );
  for (const f of r.failures) console.log(`  FAILED: ${f}`);
}

function goal(what: string, value: number, goalValue: number, unit: string): void {
  console.log(`${value >= goalValue ? 'PASS ' : 'BELOW GOAL'}  ${what}: ${fmt(value)} ${unit} (goal ≥ ${fmt(goalValue)} ${unit})`);
}

/** The advisory DB the workers match against: built once from the shared corpus (cached), or none. */
function advisoryDb(): string | undefined {
  if (process.env.BENCH_SCALE_VULNS === '0' || !existsSync(corpusVuln)) return undefined;
  const dir = join(root, '.cache', 'bench');
  const path = join(dir, 'advisories.sqlite');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    console.error('building the advisory DB from the corpus once (cached in .cache/bench/) …');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'db', 'update', '--quiet', '--db', path, '--from', corpusVuln], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`detonate db update failed (${r.status}): ${r.stderr.toString().slice(-2000)}`);
  }
  return path;
}

async function staticPart(): Promise<number> {
  const busybox = findExecutable('busybox');
  if (!existsSync('/usr/bin/docker-registry') || !busybox) {
    console.log('SKIP  registry throughput: needs docker-registry and busybox (scripts/install.sh --test)');
    return 0;
  }
  const db = advisoryDb();
  const work = mkdtempSync(join(tmpdir(), 'detonate-bench-scale-'));
  let server: TestPostgres | undefined;
  let registry: RealRegistry | undefined;
  try {
    [server, registry] = await Promise.all([startTestPostgres(), startRegistry()]);
    const images = await staticImageSet(STATIC_IMAGES, busybox);
    const t = Date.now();
    await pushImages(registry.host, images);
    const tally = layerTally(images);
    const bytes = images.reduce((sum, i) => sum + i.layers.reduce((s, l) => s + l.blob.length, 0), 0);
    console.log(
      `registry throughput, static only: ${images.length} distinct images (${fmt(bytes / images.length / 1024, 0)} KiB compressed on average, ` +
        `${fmt(tally.uses / images.length, 1)} layers each, ${tally.distinct} distinct layers of ${tally.uses} uses: the best layer dedupe is ` +
        `${fmt(100 * (1 - tally.distinct / tally.uses), 1)}%), pushed in ${fmt((Date.now() - t) / 1000, 1)} s; vulnerabilities ${db ? 'matched (the corpus\'s advisory DB)' : 'not matched'}`,
    );
    const runs: { label: string; workers: number; concurrency?: number }[] = [
      { label: '1 worker, --concurrency 1', workers: 1, concurrency: 1 },
      { label: '1 worker, default concurrency', workers: 1 },
      { label: '2 workers, default concurrency', workers: 2 },
    ];
    const loadBefore = load();
    const figures: RunFigures[] = [];
    for (const run of runs) {
      const r = await measure({
        ...run,
        server,
        registry,
        images,
        staticOnly: true,
        workerArgs: ['--static-only', ...(db ? ['--db', db] : ['--no-vulns'])],
        env: (n) => ({ DETONATE_CACHE_DIR: join(work, `${figures.length}-machine-${n}`) }),
        timeoutMs: 20 * 60_000,
      });
      printRun(r);
      figures.push(r);
    }
    const [one, oneDefault, two] = figures as [RunFigures, RunFigures, RunFigures];
    console.log(
      `scaling: --concurrency 1 → default (${oneDefault.concurrency}): ${fmt(oneDefault.perHour / one.perHour, 2)}x; 1 → 2 workers: ${fmt(two.perHour / oneDefault.perHour, 2)}x ` +
        `(${availableParallelism()} cores, shared with the registry, PostgreSQL and whatever else runs: load average ${loadBefore} before the runs)`,
    );
    const cap = DEFAULT_REGISTRY_BUCKET.refillPerSecond * 3600;
    console.log(`note: these runs raise the registry's bucket to ${BENCH_RATE_LIMIT}; with the default (${DEFAULT_REGISTRY_BUCKET.refillPerSecond}/s per registry, shared by all workers) one registry gives at most ${fmt(cap)} images/h`);
    goal('static-only throughput, 1 worker', oneDefault.perHour, STATIC_GOAL_PER_HOUR, 'images/h');
    goal('static-only throughput, 2 workers', two.perHour, STATIC_GOAL_PER_HOUR, 'images/h');
    return figures.some((f) => f.failures.length > 0) ? 1 : 0;
  } finally {
    await Promise.all([server?.stop(), registry?.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

function ownNetns(): string {
  return readlinkSync('/proc/self/ns/net');
}

/** Inside the wall: the registry and PostgreSQL on this namespace's loopback, one worker with a sandbox. */
async function detonationPart(): Promise<number> {
  if (process.env[WALL_ENV] === ownNetns()) throw new Error('refusing to detonate in the host network namespace');
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  const busybox = findExecutable('busybox')!;
  const work = mkdtempSync(join(tmpdir(), 'detonate-bench-scale-'));
  chmodSync(work, 0o711); // runc's sandbox user must traverse to its bundle
  let server: TestPostgres | undefined;
  let registry: RealRegistry | undefined;
  try {
    [server, registry] = await Promise.all([startTestPostgres(), startRegistry()]);
    const mix = Array.from({ length: DETONATE_IMAGES }, (_, n) => {
      const m = DETONATION_MIX[n % DETONATION_MIX.length]!;
      return n < DETONATION_MIX.length ? m : { ...m, name: `${m.name}-${n}`, script: `${m.script}# copy ${n}\n` };
    });
    const images = await detonationImageSet(mix, busybox);
    await pushImages(registry.host, images);
    const untilBudget = mix.filter((m) => m.runs === 'budget').length;
    console.log(
      `registry throughput with detonation (${DETONATE_TIMEOUT_MS / 1000} s budget): ${images.length} busybox images running the detonation samples, ` +
        `${untilBudget} services that run until the budget, ${images.length - untilBudget} programs that exit on their own`,
    );
    const r = await measure({
      label: '1 worker with a sandbox, default concurrency',
      workers: 1,
      server,
      registry,
      images,
      staticOnly: false,
      workerArgs: ['--no-vulns'],
      env: () => ({ DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') }),
      timeoutMs: 15 * 60_000,
    });
    printRun(r);
    goal('throughput with detonation', r.perHour, DETONATE_GOAL_PER_HOUR, 'images/h');
    return r.failures.length > 0 ? 1 : 0;
  } finally {
    await Promise.all([server?.stop(), registry?.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

function runWall(): number {
  if (process.getuid?.() !== 0) {
    console.log('SKIP  throughput with detonation: needs root (namespaces, cgroups)');
    return 0;
  }
  if (!findExecutable('runsc') && !findExecutable('runc')) {
    console.log('SKIP  throughput with detonation: no sandbox runtime installed (runsc or runc; scripts/install.sh --test)');
    return 0;
  }
  const unshare = findExecutable('unshare');
  if (!unshare) {
    console.log('SKIP  throughput with detonation: `unshare` not found (install util-linux)');
    return 0;
  }
  const r = spawnSync(
    unshare,
    ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o mode=0755 detonate-bench /run && exec "$@"', 'sh', process.execPath, '--import', 'tsx', self],
    { stdio: 'inherit', env: { ...process.env, [WALL_ENV]: ownNetns() } },
  );
  return r.status ?? 1;
}

if (process.env[WALL_ENV] !== undefined) {
  process.exitCode = await detonationPart();
} else {
  const staticCode = process.env.BENCH_SCALE_PARTS === 'detonate' ? 0 : await staticPart();
  const detonateCode = process.env.BENCH_SCALE_PARTS === 'static' ? 0 : runWall();
  process.exitCode = staticCode || detonateCode;
}

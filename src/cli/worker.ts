import { Command, InvalidArgumentError, Option } from 'commander';
import { join } from 'node:path';
import { SANDBOX_CHOICES, type SandboxChoice } from '../detonate/runtime/detect.js';
import { cacheRoot } from '../image/cache.js';
import type { Progress } from '../progress/progress.js';
import type { BucketSettings } from '../store/registry-limits.js';
import { UsageError } from './exit.js';
import { advisoryDbForRun, createDetectorsForCli, loadIgnore, loadRules, parseDuration, prepareSandbox, skipDbUpdateOption } from './scan.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';
import { STORE_WAIT_MAX_MS, DEFAULT_REGISTRY_BUCKET, DEFAULT_WORKER_LEASE_MS, DEFAULT_WORKER_STOP_TIMEOUT_MS, MIN_WORKER_LEASE_MS, RATE_LIMIT_BURST_SECONDS } from '../worker/limits.js';


interface WorkerFlags {
  store?: string;
  concurrency?: number;
  drain?: boolean;
  staticOnly?: boolean;
  metricsPort?: number;
  lease: number;
  stopTimeout: number;
  rateLimit: Array<{ registry: string; settings: BucketSettings }>;
  sandbox: SandboxChoice;
  insecureRegistry: string[];
  vulns: boolean;
  db?: string;
  skipDbUpdate?: boolean;
  rules: string[];
  hashes: string[];
  yaraEngine: 'auto' | 'yara-x' | 'yara';
  verdictRules: string[];
  ignoreFile?: string;
  quiet?: boolean;
}

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--rate-limit docker.io=100/h`: images per second, minute, hour or day; the burst is 4 seconds' worth (at least 1). */
export function parseRateLimit(text: string): { registry: string; settings: BucketSettings } {
  const m = /^([^=\s]+)=(\d+(?:\.\d+)?)\/([smhd])$/.exec(text.trim());
  if (!m || Number(m[2]) <= 0) throw new InvalidArgumentError(`"${text}" is not HOST=RATE: write e.g. docker.io=100/h, ghcr.io=5/s (per s, m, h or d)`);
  const refillPerSecond = Number(m[2]) / SECONDS_PER_UNIT[m[3]!]!;
  return { registry: m[1]!, settings: { capacity: Math.max(1, Math.ceil(refillPerSecond * RATE_LIMIT_BURST_SECONDS)), refillPerSecond } };
}

function positiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} takes a whole number of at least 1, not "${text}"`);
    return n;
  };
}

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${text}" is not a port (0-65535; 0: any free one)`);
  return n;
}

/** Lines with the time in front, for a process that runs for days. */
function workerLog(quiet: boolean): (line: string) => void {
  return quiet ? () => {} : (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

function logProgress(log: (line: string) => void): Progress {
  return { task: () => ({ update: () => {}, finish: () => {} }), log, stop: () => {} };
}

/**
 * The store, waited for while it cannot be reached (a worker started with, or before, its database: systemd, a
 * cluster coming up); a lasting problem (a wrong password, a newer schema) ends the worker at once. SIGTERM or
 * SIGINT ends the wait.
 */
async function waitForStore<T>(open: () => Promise<T>, log: (line: string) => void): Promise<T> {
  const { doublingWaits, retryingStore } = await import('../store/retry.js');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let waited = false;
  try {
    const store = await retryingStore(open, {
      waitsMs: doublingWaits(1000, STORE_WAIT_MAX_MS),
      signal: stop.signal,
      onUnavailable: (err) => {
        if (!waited) log(`waiting for the store: ${(err as Error).message}`);
        waited = true;
      },
    });
    if (waited) log('the store answers');
    return store;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('take scan jobs from the results store\'s queue and scan them, until stopped (SIGTERM) or, with --drain, until none is left')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--concurrency <n>', 'images scanned at once (default: one per core, as many as the memory holds)', positiveInt('--concurrency'))
    .option('--drain', 'exit once no job is queued or running (batch runs, CI)')
    .option('--static-only', 'no sandbox: take only the jobs that do not ask for detonation')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:PORT/metrics', port)
    .option('--lease <duration>', "how long a job stays taken without this worker's heartbeat: a killed worker's jobs come back after it", parseDuration, DEFAULT_WORKER_LEASE_MS)
    .option('--stop-timeout <duration>', 'on SIGTERM, how long running jobs may finish before they are released to other workers', parseDuration, DEFAULT_WORKER_STOP_TIMEOUT_MS)
    .option('--rate-limit <host=rate>', `images started per registry, shared by every worker of the store, e.g. docker.io=100/h (repeatable; default ${DEFAULT_REGISTRY_BUCKET.refillPerSecond}/s)`, (v: string, prev: WorkerFlags['rateLimit']) => [...prev, parseRateLimit(v)], [] as WorkerFlags['rateLimit'])
    .addOption(new Option('--sandbox <runtime>', 'sandbox runtime (auto: gVisor when installed, else hardened runc)').choices([...SANDBOX_CHOICES]).default('auto'))
    .option('--insecure-registry <host>', 'plain HTTP / unverified TLS for this registry host (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--no-vulns', 'skip matching packages against the advisory DB')
    .option('--db <path>', 'advisory DB to match against (default: the one `detonate db update` builds in the cache dir)')
    .addOption(skipDbUpdateOption())
    .option('--rules <dir>', 'add your own YARA rules from DIR (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--hashes <file>', 'flag files whose SHA-256 is on this list (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('--yara-engine <engine>', 'YARA engine: YARA-X in-process, the yara CLI, or auto').choices(['auto', 'yara-x', 'yara']).default('auto'))
    .option('--verdict-rules <dir>', 'add behaviour/verdict rules from DIR (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--ignore-file <file>', 'suppress findings and vulnerabilities listed in FILE (default: ./.detonateignore.yaml when it exists)')
    .option('-q, --quiet', 'no output but errors')
    .action(async (flags: WorkerFlags) => {
      if (flags.lease < MIN_WORKER_LEASE_MS) throw new UsageError(`--lease must be at least ${MIN_WORKER_LEASE_MS / 1000}s`);
      const log = workerLog(Boolean(flags.quiet));
      const progress = logProgress(log);
      const location = await storeLocationOf(flags.store);
      const rules = await loadRules(flags);
      const ignore = await loadIgnore(flags);
      const detonation = flags.staticOnly ? undefined : await prepareSandbox(flags, progress);
      const { concurrencyBound } = await import('../worker/concurrency.js');
      const sandboxMemoryBytes = detonation ? (await import('../detonate/limits.js')).DEFAULT_DETONATION_LIMITS.memoryBytes : undefined;
      const bound = concurrencyBound({ ...(flags.concurrency !== undefined ? { asked: flags.concurrency } : {}), ...(sandboxMemoryBytes !== undefined ? { sandboxMemoryBytes } : {}) });
      if (bound.lowered) log(`note: ${bound.lowered}`);
      const detectors = await createDetectorsForCli(flags);
      for (const n of detectors.notices) log(`note: ${n.message}`);
      // fetched or refreshed once, as the worker starts (a worker matches every job against the DB it opened)
      const vulnerabilities = flags.vulns ? await advisoryDbForRun(flags, progress) : undefined;
      if (vulnerabilities && !vulnerabilities.db) log(`note: vulnerabilities not checked: ${vulnerabilities.unavailable}`);

      const [{ openStore, judgingDigest, rulesDigest, RegistryLimits }, { ScanQueue }, { Worker }, { RegistryGate }, { WorkerMetrics, serveMetrics }] = await Promise.all([
        import('../store/index.js'), import('../store/queue.js'), import('../worker/worker.js'), import('../worker/registry-gate.js'), import('../worker/metrics.js'),
      ]);
      try {
        // a connection per running job's final transaction, and a few for fetching, heartbeats and the limits
        const store = await waitForStore(() => openStore(location, { poolSize: bound.concurrency + 4 }), log);
        try {
          let lastBossError = 0;
          const queue = await ScanQueue.open(store, {
            maintenanceIntervalSeconds: Math.min(60, Math.max(1, flags.lease / 4000)),
            onError: (err) => {
              if (Date.now() - lastBossError < 30_000) return;
              lastBossError = Date.now();
              log(`warning: queue maintenance: ${err.message}`);
            },
          });
          try {
            const limits = new RegistryLimits(store.pool, DEFAULT_REGISTRY_BUCKET);
            for (const r of flags.rateLimit) await limits.configure(r.registry, r.settings);
            const metrics = new WorkerMetrics(bound.concurrency);
            const server = flags.metricsPort !== undefined ? await serveMetrics(metrics, flags.metricsPort, () => queue.counts()) : undefined;
            const worker = new Worker({
              store,
              queue,
              gate: new RegistryGate(limits, log),
              pipeline: {
                analyzers: detectors.analyzers,
                imageChecks: detectors.imageChecks,
                ...(vulnerabilities ? { vulnerabilities } : {}),
                ...(detonation ? { detonation } : {}),
                verdict: { rules, ignore },
                rulesDigest: rulesDigest({ analyzers: detectors.analyzers, imageChecks: detectors.imageChecks, verdictRules: rules, ignore }),
                judgingDigest: judgingDigest({ verdictRules: rules, ignore }),
                insecureRegistries: flags.insecureRegistry,
                jobsDir: join(cacheRoot(), 'worker-jobs'),
              },
              concurrency: bound.concurrency,
              drain: Boolean(flags.drain),
              leaseSeconds: flags.lease / 1000,
              stopTimeoutMs: flags.stopTimeout,
              log,
              metrics,
            });
            const onSignal = () => worker.stop();
            process.on('SIGTERM', onSignal);
            process.on('SIGINT', onSignal);
            log(`worker ${process.pid}: ${store.location}; queues ${worker.queues.join(' and ')}; ${bound.concurrency} at once (${bound.cores} cores, memory for ${bound.memoryBound})${server ? `; metrics on http://127.0.0.1:${server.port}/metrics` : ''}${flags.drain ? '; until the queue is empty' : ''}`);
            try {
              const summary = await worker.run();
              const counts = Object.entries(summary.outcomes).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`).join(', ');
              const layers = summary.layers.store + summary.layers.analysed > 0 ? `; layers: ${summary.layers.analysed} analysed, ${summary.layers.store} from the store` : '';
              log(`worker ${process.pid}: ${summary.reason === 'drained' ? 'the queue is empty' : 'stopped'}; ${counts || 'no jobs'}${layers}`);
            } finally {
              process.off('SIGTERM', onSignal);
              process.off('SIGINT', onSignal);
              await server?.close();
            }
          } finally {
            await queue.close().catch(() => {});
          }
        } finally {
          await store.close().catch((err: unknown) => log(`warning: closing the results store: ${(err as Error).message}`));
        }
      } finally {
        await detectors.close();
        vulnerabilities?.db?.close();
        // A released job's scan may still be running in this process: nothing of it is recorded, so do not wait for it.
        setTimeout(() => process.exit(), 1000).unref();
      }
    });
}

/**
 * Bounds of `detonate worker` (listed in `LIMIT_MODULES`, src/config/limits.ts): how long a job may take and stay
 * taken, how long the worker waits for the store, a registry or another job, how many images it runs at once for
 * the memory it has, and the rate-limit defaults every worker of a store shares.
 */
import type { BucketSettings } from '../store/registry-limits.js';

// --- A job's time (worker.ts) ---

/** The static stage's budget per image; heartbeats stop after it (plus the detonation's), so another attempt follows. */
export const STATIC_SCAN_BUDGET_MS = 30 * 60_000;
/** Beyond a job's detonation timeout: pulling the layers, building the rootfs, the sandbox's set-up and teardown. */
export const DETONATION_BUDGET_MARGIN_MS = 10 * 60_000;
/** `--lease` default: a killed worker's jobs come back after this (plus up to a quarter of it for maintenance). */
export const DEFAULT_WORKER_LEASE_MS = 120_000;
/** The shortest `--lease`: heartbeats go every third of it, and each is a round trip to the store. */
export const MIN_WORKER_LEASE_MS = 2000;
/** `--stop-timeout` default: on SIGTERM, running jobs may finish in this time (a 60 s detonation with its set-up). */
export const DEFAULT_WORKER_STOP_TIMEOUT_MS = 120_000;
/** How long a job waits when another job is scanning the same image (then it links to that scan). */
export const BUSY_IMAGE_WAIT_MS: Readonly<{ static: number; detonate: number }> = Object.freeze({ static: 3_000, detonate: 30_000 });
/** The idle wait between fetches when the queue had no job. */
export const IDLE_POLL_MS = 1000;

// --- The store away (worker.ts, failure.ts) ---

/** Attempts at a job's final transaction while the store is away. */
export const MAX_RECORD_RETRIES = 8;

// --- Concurrency (concurrency.ts) ---

/** Memory counted per image for the static stage: the analyzers' buffers, YARA, the parsed layers. */
export const STATIC_JOB_MEMORY_BYTES = 512 * 1024 * 1024;
/** Counted per image beyond the sandbox's own memory limit when the worker detonates: the runtime and the monitor. */
export const SANDBOX_OVERHEAD_MEMORY_BYTES = 256 * 1024 * 1024;
/** The share of the available memory the worker counts on (the rest: page cache and the machine's other work). */
export const USABLE_MEMORY_SHARE = 0.75;

// --- Registries (registry-gate.ts, cli/worker.ts) ---

/** A registry nobody gave a `--rate-limit`: up to 20 images at once after a quiet while, 5 per second after that. */
export const DEFAULT_REGISTRY_BUCKET: Readonly<BucketSettings> = Object.freeze({ capacity: 20, refillPerSecond: 5 });
/** A `--rate-limit`'s burst: this many seconds' worth of its rate (at least one image). */
export const RATE_LIMIT_BURST_SECONDS = 4;

export interface GateLimits {
  /** A wait for the bucket longer than this defers the job instead of holding a worker slot. */
  maxWaitMs: number;
  /** Failures in a row that pause the registry. */
  failuresBeforePause: number;
  firstFailurePauseMs: number;
  maxFailurePauseMs: number;
  /** A 429 without Retry-After, or Docker Hub's quota used up, pauses at least this long. */
  defaultRateLimitPauseMs: number;
}

export const DEFAULT_GATE_LIMITS: Readonly<GateLimits> = Object.freeze({
  maxWaitMs: 30_000,
  failuresBeforePause: 3,
  firstFailurePauseMs: 30_000,
  maxFailurePauseMs: 15 * 60_000,
  defaultRateLimitPauseMs: 60_000,
});

// --- Metrics (metrics.ts) ---

/** How long a scrape reuses the queue counts of the one before (scrapers may be many and frequent). */
export const QUEUE_COUNTS_TTL_MS = 5000;

/** After a stop released its jobs, how long the worker waits for their detonations to tear down before it exits. */
export const RELEASED_JOB_TEARDOWN_WAIT_MS = 60_000;

/** A worker started while its store cannot be reached tries again, waiting twice as long each time up to this. */
export const STORE_WAIT_MAX_MS = 30_000;

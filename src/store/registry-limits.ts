/**
 * Per-registry rate limits shared by every worker of a store: one row per registry in `registry_limits`
 * (migrations/002), a token bucket and a pause. Every change is one statement, so workers on many machines
 * share a registry's budget without any lock held across a round trip. When to pause and for how long is the
 * worker's policy (src/worker/registry-gate.ts); this module only keeps the numbers.
 */
import type pg from 'pg';
import { storableText } from './rows.js';

export interface BucketSettings {
  /** Most images started at once after an idle while (the burst). */
  capacity: number;
  /** Images per second in the long run. */
  refillPerSecond: number;
}

export type TakeResult =
  /** A token was taken; start after `waitMs` (0: now), when the refill covers it. */
  | { kind: 'taken'; waitMs: number }
  /** The registry is paused: nothing may start before `until`. */
  | { kind: 'paused'; until: Date; reason: string };

export interface RegistryLimitRow {
  registry: string;
  capacity: number;
  refillPerSecond: number;
  /** Tokens now (refill counted); below zero while workers wait for the registry. */
  tokens: number;
  configured: boolean;
  pausedUntil: Date | null;
  pauseReason: string | null;
  consecutiveFailures: number;
}

type Queryable = pg.Pool | pg.PoolClient;

export class RegistryLimits {
  constructor(
    private readonly db: Queryable,
    /** The bucket of a registry nobody configured. */
    readonly defaults: BucketSettings,
  ) {}

  /** Sets a registry's bucket (`worker --rate-limit HOST=RATE`); the last worker to start with one wins. */
  async configure(registry: string, settings: BucketSettings): Promise<void> {
    await this.db.query(
      `INSERT INTO registry_limits AS r (registry, capacity, refill_per_second, tokens, configured) VALUES ($1, $2::float8, $3::float8, $2::float8, true)
       ON CONFLICT (registry) DO UPDATE SET capacity = EXCLUDED.capacity, refill_per_second = EXCLUDED.refill_per_second,
         tokens = LEAST(EXCLUDED.capacity, r.tokens), configured = true`,
      [registry, settings.capacity, settings.refillPerSecond],
    );
  }

  /** Takes a token of `registry`'s bucket, unless the registry is paused. */
  async take(registry: string): Promise<TakeResult> {
    const { rows } = await this.db.query<{ tokens: number; refill: number }>(
      `INSERT INTO registry_limits AS r (registry, capacity, refill_per_second, tokens) VALUES ($1, $2::float8, $3::float8, $2::float8 - 1)
       ON CONFLICT (registry) DO UPDATE SET
         tokens = LEAST(r.capacity, r.tokens + EXTRACT(epoch FROM now() - r.refilled_at) * r.refill_per_second) - 1,
         refilled_at = now()
       WHERE r.paused_until IS NULL OR r.paused_until <= now()
       RETURNING r.tokens, r.refill_per_second AS refill`,
      [registry, this.defaults.capacity, this.defaults.refillPerSecond],
    );
    const taken = rows[0];
    if (taken) return { kind: 'taken', waitMs: taken.tokens >= 0 ? 0 : Math.ceil((-taken.tokens / taken.refill) * 1000) };
    const paused = await this.db.query<{ until: Date; reason: string | null }>(
      'SELECT paused_until AS until, pause_reason AS reason FROM registry_limits WHERE registry = $1',
      [registry],
    );
    const row = paused.rows[0];
    // the pause ended between the two statements: say so with a pause that is already over
    return { kind: 'paused', until: row?.until ?? new Date(), reason: row?.reason ?? 'paused' };
  }

  /** Puts back a token that was taken but not used (the image was deferred instead). */
  async giveBack(registry: string): Promise<void> {
    await this.db.query('UPDATE registry_limits SET tokens = LEAST(capacity, tokens + 1) WHERE registry = $1', [registry]);
  }

  /** No image of `registry` starts before `until` (a pause already longer stays). */
  async pause(registry: string, until: Date, reason: string): Promise<void> {
    await this.db.query(
      `INSERT INTO registry_limits AS r (registry, capacity, refill_per_second, tokens, paused_until, pause_reason) VALUES ($1, $2::float8, $3::float8, $2::float8, $4::timestamptz, $5)
       ON CONFLICT (registry) DO UPDATE SET paused_until = $4::timestamptz, pause_reason = $5
       WHERE r.paused_until IS NULL OR r.paused_until < $4::timestamptz`,
      [registry, this.defaults.capacity, this.defaults.refillPerSecond, until, storableText(reason)],
    );
  }

  /** When `registry`'s pause ends, or null when it is not paused. */
  async pausedUntil(registry: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ until: Date }>('SELECT paused_until AS until FROM registry_limits WHERE registry = $1 AND paused_until > now()', [registry]);
    return rows[0]?.until ?? null;
  }

  /** Counts a failure of the registry itself (5xx, connection); returns how many in a row there have been. */
  async recordFailure(registry: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `INSERT INTO registry_limits AS r (registry, capacity, refill_per_second, tokens, consecutive_failures) VALUES ($1, $2::float8, $3::float8, $2::float8, 1)
       ON CONFLICT (registry) DO UPDATE SET consecutive_failures = r.consecutive_failures + 1
       RETURNING consecutive_failures AS n`,
      [registry, this.defaults.capacity, this.defaults.refillPerSecond],
    );
    return rows[0]?.n ?? 1;
  }

  /** An image of the registry was pulled: its run of failures is over. */
  async recordSuccess(registry: string): Promise<void> {
    await this.db.query('UPDATE registry_limits SET consecutive_failures = 0 WHERE registry = $1 AND consecutive_failures <> 0', [registry]);
  }

  /** Every registry's row, for `detonate status`. */
  async list(): Promise<RegistryLimitRow[]> {
    const { rows } = await this.db.query<{
      registry: string; capacity: number; refill: number; tokens: number; configured: boolean; paused_until: Date | null; pause_reason: string | null; failures: number;
    }>(
      `SELECT registry, capacity, refill_per_second AS refill, configured, consecutive_failures AS failures,
              LEAST(capacity, tokens + EXTRACT(epoch FROM now() - refilled_at) * refill_per_second) AS tokens,
              CASE WHEN paused_until > now() THEN paused_until END AS paused_until,
              CASE WHEN paused_until > now() THEN pause_reason END AS pause_reason
       FROM registry_limits ORDER BY registry`,
    );
    return rows.map((r) => ({
      registry: r.registry,
      capacity: r.capacity,
      refillPerSecond: r.refill,
      tokens: Number(r.tokens),
      configured: r.configured,
      pausedUntil: r.paused_until,
      pauseReason: r.pause_reason,
      consecutiveFailures: r.failures,
    }));
  }
}

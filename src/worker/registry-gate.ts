/**
 * The worker's side of the per-registry rate limits (the numbers live in the store: src/store/registry-limits.ts,
 * shared by every worker): a job takes a token of its registry's bucket before it pulls, and waits for the refill
 * when the bucket is short, or is deferred when the wait would be long or the registry is paused. A registry is
 * paused for every worker
 * - on a 429, until its `Retry-After` (60 s without one): seen on any response, also one the registry client
 *   retried by itself;
 * - when Docker Hub's `ratelimit-remaining` reaches 0: for the time the window gives back one pull
 *   (`ratelimit-limit: L;w=W`: W/L seconds), at least a minute;
 * - after a run of failed images (5xx, connections, each after the client's own retries): 30 s after the third,
 *   doubling to at most 15 minutes; one image pulled ends the run.
 * Jobs of other registries go on meanwhile.
 */
import type { RegistryResponse, RegistryResponseObserver } from '../image/types.js';
import { parseRetryAfter } from '../image/registry/challenge.js';
import type { RegistryLimits } from '../store/registry-limits.js';
import { DEFAULT_GATE_LIMITS, type GateLimits } from './limits.js';

/** One job's view of its registry's answers. */
export interface RegistryWatch {
  observer: RegistryResponseObserver;
  /** The end of the last pause the responses called for. */
  lastPause(): Date | undefined;
  /** Resolves when the pauses are written. */
  settled(): Promise<void>;
}

export type Admission = { kind: 'go'; waitedMs: number } | { kind: 'defer'; until: Date; reason: string };

/** Local archives have no registry to spare. */
export function isRateLimited(registry: string): boolean {
  return registry !== '' && !/^(docker-archive|oci-archive|oci)$/.test(registry);
}

/** `76;w=21600` → { value: 76, windowSeconds: 21600 } */
function parseQuota(value: string | string[] | undefined): { value: number; windowSeconds?: number } | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  const m = text ? /^(\d+)(?:\s*;\s*w=(\d+))?/.exec(text) : null;
  if (!m) return undefined;
  return { value: Number(m[1]), ...(m[2] ? { windowSeconds: Number(m[2]) } : {}) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RegistryGate {
  constructor(
    private readonly limits: RegistryLimits,
    private readonly log: (line: string) => void,
    private readonly options: GateLimits = DEFAULT_GATE_LIMITS,
  ) {}

  /** Before a job of `registry` pulls: go (after waiting for the bucket), or defer the job to a time. */
  async admit(registry: string): Promise<Admission> {
    const taken = await this.limits.take(registry);
    if (taken.kind === 'paused') return { kind: 'defer', until: taken.until, reason: `${registry} is paused: ${taken.reason}` };
    if (taken.waitMs > this.options.maxWaitMs) {
      await this.limits.giveBack(registry);
      return { kind: 'defer', until: new Date(Date.now() + taken.waitMs), reason: `${registry}'s rate limit has no token for ${Math.ceil(taken.waitMs / 1000)} s` };
    }
    if (taken.waitMs > 0) await sleep(taken.waitMs);
    return { kind: 'go', waitedMs: taken.waitMs };
  }

  /** Watches the responses of one job's pulls from `registry`; the pauses they call for are written in the background. */
  watch(registry: string): RegistryWatch {
    let writes: Promise<void> = Promise.resolve();
    let lastPause: Date | undefined;
    return {
      observer: (response: RegistryResponse) => {
        const pause = this.pauseFor(response);
        if (!pause) return;
        lastPause = pause.until;
        this.log(`${registry}: ${pause.reason}; paused until ${pause.until.toISOString()}`);
        writes = writes
          .then(() => this.limits.pause(registry, pause.until, pause.reason))
          .catch((err: unknown) => this.log(`warning: could not pause ${registry}: ${(err as Error).message}`));
      },
      lastPause: () => lastPause,
      settled: () => writes,
    };
  }

  private pauseFor(response: RegistryResponse): { until: Date; reason: string } | undefined {
    if (response.status === 429) {
      const after = parseRetryAfter(response.headers['retry-after']);
      return { until: new Date(Date.now() + (after ?? this.options.defaultRateLimitPauseMs)), reason: `429 Too Many Requests${after !== undefined ? ` (Retry-After ${Math.ceil(after / 1000)} s)` : ''}` };
    }
    const remaining = parseQuota(response.headers['ratelimit-remaining']);
    if (remaining?.value !== 0) return undefined;
    const limit = parseQuota(response.headers['ratelimit-limit']);
    const window = remaining.windowSeconds ?? limit?.windowSeconds;
    const perPull = limit && limit.value > 0 && window ? (window / limit.value) * 1000 : 0;
    return { until: new Date(Date.now() + Math.max(this.options.defaultRateLimitPauseMs, perPull)), reason: 'pull quota used up (ratelimit-remaining: 0)' };
  }

  /**
   * A 429 outlasted the client's retries: the registry stays paused as its Retry-After asked, or for a minute when
   * it gave none. Until when.
   */
  async rateLimited(registry: string, watch: RegistryWatch): Promise<Date> {
    await watch.settled();
    if (!watch.lastPause()) await this.limits.pause(registry, new Date(Date.now() + this.options.defaultRateLimitPauseMs), '429 Too Many Requests');
    return (await this.limits.pausedUntil(registry)) ?? watch.lastPause() ?? new Date();
  }

  /** An image of `registry` failed for the registry's sake; a run of them pauses it. */
  async failed(registry: string): Promise<void> {
    const failures = await this.limits.recordFailure(registry);
    if (failures < this.options.failuresBeforePause) return;
    const ms = Math.min(this.options.maxFailurePauseMs, this.options.firstFailurePauseMs * 2 ** (failures - this.options.failuresBeforePause));
    const until = new Date(Date.now() + ms);
    this.log(`${registry}: ${failures} images failed in a row; paused until ${until.toISOString()}`);
    await this.limits.pause(registry, until, `${failures} images in a row failed`);
  }

  async succeeded(registry: string): Promise<void> {
    await this.limits.recordSuccess(registry);
  }
}

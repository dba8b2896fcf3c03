/**
 * The store away for a moment (restarting, a connection dropped, a failover) as every long-running caller meets it:
 * `isStoreUnavailable` tells such a failure from one that will not pass, and `retryingStore` tries a call again
 * through it. Workers and crawls both go on through a restart of PostgreSQL this way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { STORE_RETRY_WAITS_MS } from './limits.js';
import { StoreError } from './errors.js';

/** Error codes of a connection that broke or could not be made (the store's; registries wrap theirs). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
/**
 * SQLSTATE classes that pass: 08 connection exception, 57P operator intervention (shutdown, starting up), 53
 * insufficient resources (too many connections), and 40001/40P01 (serialization failure, deadlock: try again).
 */
const PASSING_SQLSTATE = /^(08|57P|53)|^40001$|^40P01$/;
/** pg's own messages for a connection that broke or could not be made (they carry no code). */
const CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|the database system is (starting up|shutting down)/;

export function isStoreUnavailable(err: unknown): boolean {
  // the store's own errors are lasting, unless they wrap a connection that could not be made
  if (err instanceof StoreError) return err.cause !== undefined && isStoreUnavailable(err.cause);
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (err instanceof pg.DatabaseError) return PASSING_SQLSTATE.test(code);
  if (CONNECTION_CODES.has(code)) return true;
  return typeof e?.message === 'string' && CONNECTION_MESSAGE.test(e.message);
}

export interface StoreRetryOptions {
  /** The waits between tries; default STORE_RETRY_WAITS_MS (about 12 s in all). May be endless. */
  waitsMs?: Iterable<number>;
  /** Ends the waiting: the last failure is thrown. */
  signal?: AbortSignal;
  /** Told of each passing failure before its wait (`attempt` 0 is the first). */
  onUnavailable?: (error: unknown, attempt: number) => void;
}

/** `call`, tried again while the store is unavailable; other failures at once. */
export async function retryingStore<T>(call: () => Promise<T>, options: StoreRetryOptions = {}): Promise<T> {
  const waits = (options.waitsMs ?? STORE_RETRY_WAITS_MS)[Symbol.iterator]();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const wait = waits.next();
      if (wait.done || !isStoreUnavailable(err) || options.signal?.aborted) throw err;
      options.onUnavailable?.(err, attempt);
      await sleep(wait.value, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
      if (options.signal?.aborted) throw err;
    }
  }
}

/** Waits of `firstMs`, doubling up to `maxMs`, without end. */
export function* doublingWaits(firstMs: number, maxMs: number): Generator<number> {
  for (let wait = firstMs; ; wait = Math.min(maxMs, wait * 2)) yield wait;
}

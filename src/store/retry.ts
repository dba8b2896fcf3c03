/**
 * The store away for a moment (restarting, a connection dropped, a failover) as every long-running caller meets it:
 * `isStoreUnavailable` tells such a failure from one that will not pass, and `retryingStore` tries a call again
 * through it. Workers and crawls both go on through a restart of PostgreSQL this way.
 */
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

/** `call`, tried again while the store is unavailable (about 12 s in all by default); other failures at once. */
export async function retryingStore<T>(call: () => Promise<T>, waitsMs: readonly number[] = STORE_RETRY_WAITS_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const wait = waitsMs[attempt];
      if (wait === undefined || !isStoreUnavailable(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

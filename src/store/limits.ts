/**
 * Bounds of the results store (listed in `LIMIT_MODULES`, src/config/limits.ts): how long the store waits for its
 * server and helper programs, how much of a hostile image's strings a row keeps, so that no image can make its
 * own scan impossible to record and no dead server can hang a scan, and the scan queue's retries and leases.
 */

// --- Waiting (cluster.ts, lease.ts, store.ts, binaries.ts, retry.ts) ---

/** A server that does not answer in this time is reported, not waited for (a firewall that drops packets). */
export const STORE_CONNECT_TIMEOUT_MS = 15_000;
/**
 * One connection attempt of a lease on the private server, and how long acquiring waits for a server being stopped
 * by another process, or started by one.
 */
export const STORE_LEASE_CONNECT_TIMEOUT_MS = 10_000;
export const STORE_LEASE_ACQUIRE_TIMEOUT_MS = 60_000;
/** A start that failed this often while no server appeared is a real failure, not a race with another process. */
export const MAX_STORE_START_FAILURES = 3;
/** `pg_ctl start` and `stop` wait this long for the private server (the program itself gets 30 s more). */
export const STORE_SERVER_START_TIMEOUT_SECONDS = 60;
/** `getent` and `pg_config`, asked for a user or where PostgreSQL is installed, answer in this time or not at all. */
export const STORE_LOOKUP_TIMEOUT_MS = 5000;

/** Waits between tries of a store call while the store is away (retry.ts): about 12 s in all, well within a lease. */
export const STORE_RETRY_WAITS_MS: readonly number[] = Object.freeze([500, 1000, 2000, 4000, 4000]);

// --- Rows (rows.ts): PostgreSQL's index entries are at most about 2.7 kB ---

/** Bytes kept of an indexed string; a composite index of a few of them stays under the btree's limit. */
export const INDEXED_TEXT_BYTES = 512;
/** Bytes kept of a string that is shown, not indexed (titles, paths). */
export const SHOWN_TEXT_BYTES = 4096;

/** Notices a crawl pass keeps with its row (crawls.ts); the rest are counted. */
export const MAX_CRAWL_NOTICES_KEPT = 50;

// --- The scan queue (queue.ts) ---

/** Retries of a job that failed for a passing reason (network, 429, registry 5xx, the store unreachable). */
export interface RetrySettings {
  /** Retries after the first attempt; then the job goes to the dead-letter queue. */
  retryLimit: number;
  /** The first retry waits about this long, each next one about twice as long (pg-boss's backoff, with jitter). */
  retryDelaySeconds: number;
}

/** Five attempts over about 15 to 30 minutes: long enough for a registry's or the store's restart to pass. */
export const DEFAULT_QUEUE_RETRY_SETTINGS: Readonly<RetrySettings> = Object.freeze({ retryLimit: 4, retryDelaySeconds: 30 });
/** How long a fetched job stays taken before its worker's first heartbeat (which sets the worker's own lease). */
export const QUEUE_INITIAL_LEASE_SECONDS = 120;
/** Dead-letter jobs `detonate queue failed` lists unless asked for another number. */
export const MAX_DEAD_LETTERS_LISTED = 1000;
/** Entries in each ranked list of the aggregate report (CVEs, pools, wallets, domains, attack tools, reasons). */
export const AGGREGATE_TOP_N = 10;
/** Images per page of a search or listing, at most. */
export const MAX_PAGE_SIZE = 100;
/** Results a search pages through, at most: past this, narrow the search. */
export const MAX_SEARCH_OFFSET = 10_000;
/** Tags shown with each image in a result list. */
export const MAX_TAGS_PER_HIT = 20;
/** Other images an image's page lists as built on its malicious layers. */
export const MAX_SHARING_IMAGES = 50;

/**
 * Advisory lock keys (the two-integer form: a space of Detonate's own, then the lock). They show in `pg_locks` as
 * classid = LOCK_SPACE, objid = the lock.
 */
export const LOCK_SPACE = 0x44455430; // 'DET0'
/** Held shared by every Detonate process using the private cluster; exclusive by the one that stops it. */
export const LEASE_LOCK = 1;
/** Held by the transaction that applies migrations. */
export const MIGRATION_LOCK = 2;
/** Crawl passes (crawls.ts): held by the process crawling a source, keyed by the pass's id. */
export const CRAWL_LOCK_SPACE = 0x44455431; // 'DET1'

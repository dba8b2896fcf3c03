/** Bounds of the commands' own output (listed in `LIMIT_MODULES`, src/config/limits.ts). */

/** Feed warnings `detonate db update` prints one by one; the rest are counted (a hostile feed can yield thousands). */
export const MAX_DB_UPDATE_WARNINGS_SHOWN = 20;
/** Crawl passes `detonate status` shows: the unfinished ones first, then the latest finished ones. */
export const MAX_CRAWLS_SHOWN = 10;

/** Bounds of the commands' own output (listed in `LIMIT_MODULES`, src/config/limits.ts). */

/** Feed warnings `detonate db update` prints one by one; the rest are counted (a hostile feed can yield thousands). */
export const MAX_DB_UPDATE_WARNINGS_SHOWN = 20;

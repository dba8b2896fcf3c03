/**
 * The advisory DB a scan fetches for itself: when the default DB is missing or older than `DB_REFRESH_AFTER_HOURS`,
 * `scan` and `worker` build it from the live feeds before matching, as Trivy fetches its DB on first use
 * (`--skip-db-update` opts out). Offline, or when the feeds fail, the scan goes on with the DB it has (or none) and
 * says so. A DB built from other sources (`db update --from`) is the user's: it is never replaced behind their back.
 * One refresh at a time per DB: a lock file beside it, taken over only from a process that no longer runs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Progress } from '../progress/progress.js';
import { AdvisoryDb, AdvisoryDbError } from './db.js';
import { DB_REFRESH_AFTER_HOURS } from './limits.js';
import { defaultFeedUrls, updateAdvisoryDb } from './update.js';

export type RefreshOutcome =
  | { action: 'current'; builtAt: string }
  /** Built or rebuilt now. */
  | { action: 'updated'; records: number }
  /** Not refreshed, with why: built from the user's own sources, or another process is refreshing it. */
  | { action: 'left'; why: string }
  /** The refresh failed: `message` says what happened and what the scan goes on with. */
  | { action: 'failed'; message: string };

export interface RefreshOptions {
  dbPath: string;
  downloadDir: string;
  progress: Progress;
  now?: Date;
  env?: NodeJS.ProcessEnv;
}

function currentDb(dbPath: string): { builtAt: string; origins: string[] } | null {
  try {
    const db = AdvisoryDb.open(dbPath);
    try {
      const status = db.status();
      return { builtAt: status.builtAt, origins: [...new Set(status.sources.map((s) => s.origin))] };
    } finally {
      db.close();
    }
  } catch (err) {
    if (err instanceof AdvisoryDbError) return null; // missing or unusable: built afresh
    throw err;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes the refresh lock of `dbPath`; false when a running process holds it. */
function takeLock(lockPath: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
      rmSync(lockPath, { force: true }); // left by a process that died mid-refresh
    }
  }
  return false;
}

export async function refreshAdvisoryDbIfDue({ dbPath, downloadDir, progress, now = new Date(), env = process.env }: RefreshOptions): Promise<RefreshOutcome> {
  const current = currentDb(dbPath);
  if (current) {
    const ageHours = (now.getTime() - Date.parse(current.builtAt)) / 3_600_000;
    if (ageHours >= 0 && ageHours < DB_REFRESH_AFTER_HOURS) return { action: 'current', builtAt: current.builtAt };
    const defaults = new Set(defaultFeedUrls(env));
    const own = current.origins.filter((o) => !defaults.has(o));
    if (own.length > 0) return { action: 'left', why: `it was built from ${own.slice(0, 3).join(', ')}${own.length > 3 ? ', …' : ''}; \`detonate db update --from …\` refreshes it` };
  }
  const lockPath = `${dbPath}.update-lock`;
  mkdirSync(dirname(dbPath), { recursive: true });
  if (!takeLock(lockPath)) return { action: 'left', why: 'another detonate process is updating it now' };
  try {
    progress.log(current ? `the advisory DB is older than ${DB_REFRESH_AFTER_HOURS} hours (built ${current.builtAt}): updating it (--skip-db-update skips this)` : 'no advisory DB yet: fetching the advisory feeds (once; --skip-db-update skips this)');
    const result = await updateAdvisoryDb({ from: defaultFeedUrls(env), dbPath, downloadDir, progress });
    return { action: 'updated', records: result.records };
  } catch (err) {
    const goesOn = current ? `matching against the DB built ${current.builtAt}` : 'vulnerabilities are not checked';
    const reason = (err as Error).message;
    const advice = /db update/.test(reason) ? '' : ' Run `detonate db update` when online, or `detonate db update --from DIR` with feed files.';
    return { action: 'failed', message: `the advisory DB could not be updated (${reason}); ${goesOn}.${advice} --skip-db-update stops trying` };
  } finally {
    rmSync(lockPath, { force: true });
  }
}

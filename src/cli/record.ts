import type { Report } from '../model/index.js';
import type { Progress } from '../progress/progress.js';
import type { Store } from '../store/index.js';
import { storeLocationOf } from './store.js';

/** `scan --store`: each image's reports, or why it could not be scanned, go into the results store. */
export interface ScanRecorder {
  /** Records the reports of one image argument; the error's message when they could not be recorded. */
  recordReports(reports: readonly Report[], startedAt: Date): Promise<string | undefined>;
  /** Records that an image argument could not be scanned (the scan stage and the reason). */
  recordFailure(reference: string, error: unknown, startedAt: Date): Promise<void>;
  close(): Promise<void>;
}

export interface RecorderContext {
  rulesDigest: string;
  judgingDigest: string;
  sandbox: string | null;
  /** The advisory DB's build date when vulnerabilities are matched against one (asked only for a failed scan). */
  advisoryDbBuiltAt: () => string | null;
  progress: Progress;
}

/** Opens the store `--store` names (made and started if it is the private one): before any image is pulled. */
export async function openRecorder(value: string, context: RecorderContext): Promise<ScanRecorder> {
  const { openStore } = await import('../store/index.js');
  const store: Store = await openStore(await storeLocationOf(value), { poolSize: 2 });
  context.progress.log(`results store: ${store.location}`);
  let recorded = 0;
  return {
    async recordReports(reports, startedAt) {
      const finishedAt = new Date();
      try {
        for (const report of reports) {
          await store.recordScan(report, { rulesDigest: context.rulesDigest, judgingDigest: context.judgingDigest, startedAt, finishedAt, sandbox: context.sandbox, timings: { totalMs: finishedAt.getTime() - startedAt.getTime() } });
          recorded++;
        }
        return undefined;
      } catch (err) {
        return `the report could not be recorded in ${store.location}: ${(err as Error).message}`;
      }
    },
    async recordFailure(reference, error, startedAt) {
      const reason = error instanceof Error ? error.message : String(error);
      await store.recordFailedScan({ reference }, 'scan', reason, {
        rulesDigest: context.rulesDigest, sandbox: context.sandbox, advisoryDbBuiltAt: context.advisoryDbBuiltAt(), startedAt,
        timings: { totalMs: Date.now() - startedAt.getTime() },
      }).catch((err: unknown) => context.progress.log(`warning: the failed scan of ${reference} could not be recorded: ${(err as Error).message}`));
    },
    async close() {
      await store.close();
      if (recorded > 0) context.progress.log(`recorded ${recorded} report(s): ${store.location}`);
    },
  };
}

import { Command } from 'commander';
import type { ScanQueue } from '../store/queue.js';
import { MAX_DEAD_LETTERS_LISTED } from '../store/limits.js';
import { UsageError } from './exit.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkIds(ids: readonly string[]): void {
  const bad = ids.find((id) => !UUID.test(id));
  if (bad) throw new UsageError(`"${bad}" is not a job id (detonate queue failed --json lists them)`);
}

/** Opens the store and its queue for one command. */
async function withQueue<T>(where: string | undefined, fn: (queue: ScanQueue) => Promise<T>): Promise<T> {
  const location = await storeLocationOf(where);
  const [{ openStore }, { ScanQueue }] = await Promise.all([import('../store/index.js'), import('../store/queue.js')]);
  const store = await openStore(location, { poolSize: 2 });
  try {
    const queue = await ScanQueue.open(store);
    try {
      return await fn(queue);
    } finally {
      await queue.close();
    }
  } finally {
    await store.close();
  }
}

export function queueCommand(): Command {
  const queue = new Command('queue').description('the scan queue: jobs that failed for good (the dead-letter queue), retrying and cancelling jobs');

  queue.command('failed')
    .description('list the jobs whose retries were used up (registry or store failures; an image that cannot be scanned is a failed scan instead)')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--json', 'print JSON (for scripts)')
    .option('--limit <n>', `list at most N (default ${MAX_DEAD_LETTERS_LISTED})`, (v: string) => Number(v), MAX_DEAD_LETTERS_LISTED)
    .action(async (flags: { store?: string; json?: boolean; limit: number }) => {
      if (!Number.isInteger(flags.limit) || flags.limit < 1) throw new UsageError('--limit takes a whole number of at least 1');
      const dead = await withQueue(flags.store, (q) => q.deadLetters(flags.limit));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(dead, null, 2)}\n`);
        return;
      }
      if (dead.length === 0) {
        process.stdout.write('no failed jobs\n');
        return;
      }
      for (const d of dead) {
        process.stdout.write(`${d.id}  ${d.failedAt.toISOString()}  ${d.job.reference}${d.job.platform ? ` (${d.job.platform})` : ''}\n    ${d.stage ? `${d.stage}: ` : ''}${d.error}\n`);
      }
    });

  queue.command('retry')
    .description('put failed jobs (these ids, or --all) back in the queue with fresh retries')
    .argument('[id...]', 'job ids from detonate queue failed')
    .option('--all', 'every failed job')
    .option('--store <where>', STORE_OPTION_HELP)
    .action(async (ids: string[], flags: { store?: string; all?: boolean }) => {
      if (Boolean(flags.all) === ids.length > 0) throw new UsageError('queue retry takes job ids or --all');
      checkIds(ids);
      const r = await withQueue(flags.store, (q) => q.retryDead(flags.all ? undefined : ids));
      process.stderr.write(`${r.enqueued} job(s) queued again${r.alreadyQueued ? `, ${r.alreadyQueued} already queued` : ''}${r.notFound ? `, ${r.notFound} not among the failed jobs` : ''}\n`);
    });

  queue.command('cancel')
    .description("cancel queued and running jobs (these ids, a registry's, or --all); a running job's worker records nothing; a failed job's id drops it")
    .argument('[id...]', 'job ids')
    .option('--registry <host>', "every job of this registry (e.g. docker.io)")
    .option('--all', 'every queued and running job')
    .option('--store <where>', STORE_OPTION_HELP)
    .action(async (ids: string[], flags: { store?: string; all?: boolean; registry?: string }) => {
      const ways = [ids.length > 0, Boolean(flags.all), flags.registry !== undefined].filter(Boolean).length;
      if (ways !== 1) throw new UsageError('queue cancel takes job ids, --registry HOST or --all (one of them)');
      checkIds(ids);
      const n = await withQueue(flags.store, (q) => q.cancel({ ...(ids.length ? { ids } : {}), ...(flags.all ? { all: true } : {}), ...(flags.registry !== undefined ? { registry: flags.registry } : {}) }));
      process.stderr.write(`${n} job(s) cancelled\n`);
    });
  return queue;
}

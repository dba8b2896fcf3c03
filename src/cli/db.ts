import { Command } from 'commander';
import { cacheRoot } from '../image/cache.js';
import { progressFor } from './progress.js';
import { MAX_DB_UPDATE_WARNINGS_SHOWN } from './limits.js';

export function dbCommand(): Command {
  const db = new Command('db').description('the local advisory database used to match vulnerabilities');

  db.command('update')
    .description('build or refresh the advisory DB (default: the live OSV feeds); --from imports local feeds or URLs instead')
    .option('--from <path|url>', 'a feed file, a directory (searched recursively, each feed recognised by its format) or a URL; repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--db <path>', 'where the DB lives (default: in the cache dir)')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: { from: string[]; db?: string; quiet?: boolean }) => {
      const { updateAdvisoryDb, defaultDownloadDir } = await import('../vuln/update.js');
      const { defaultDbPath } = await import('../vuln/db.js');
      const root = cacheRoot();
      const progress = await progressFor(Boolean(flags.quiet));
      const dbPath = flags.db ?? defaultDbPath(root);
      const started = Date.now();
      try {
        const result = await updateAdvisoryDb({ from: flags.from, dbPath, downloadDir: defaultDownloadDir(root), progress });
        for (const n of result.notices.slice(0, MAX_DB_UPDATE_WARNINGS_SHOWN)) progress.log(`warning: ${n}`);
        if (result.notices.length > MAX_DB_UPDATE_WARNINGS_SHOWN) progress.log(`… and ${result.notices.length - MAX_DB_UPDATE_WARNINGS_SHOWN} more warnings`);
        const sources = Object.entries(result.bySource).map(([k, v]) => `${k} ${v}`).join(', ');
        process.stderr.write(`advisory DB ${dbPath}: ${result.records} records (${sources || 'none'}) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      } finally {
        progress.stop();
      }
    });

  db.command('status')
    .description('the DB age, sources and record counts')
    .option('--db <path>', 'where the DB lives (default: in the cache dir)')
    .option('--format <format>', 'text or json', 'text')
    .action(async (flags: { db?: string; format: string }) => {
      const { AdvisoryDb, defaultDbPath } = await import('../vuln/db.js');
      const { STALE_AFTER_DAYS } = await import('../vuln/stage.js');
      const db = AdvisoryDb.open(flags.db ?? defaultDbPath(cacheRoot()));
      try {
        const s = db.status();
        if (flags.format === 'json') {
          process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
          return;
        }
        const ageDays = (Date.now() - Date.parse(s.builtAt)) / 86_400_000;
        const lines = [
          `database   ${s.path}`,
          `built      ${s.builtAt} (${ageDays < 1 ? 'today' : `${Math.floor(ageDays)} days ago`}${ageDays > STALE_AFTER_DAYS ? ', stale: run detonate db update' : ''})`,
          `schema     ${s.schema} (detonate ${s.toolVersion})`,
          `records    ${s.advisories} advisories, ${s.affectedPackages} affected packages`,
          'sources',
          ...s.sources.map((src) => `  ${src.name.padEnd(48)} ${String(src.records).padStart(8)}  ${src.importedAt}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        db.close();
      }
    });
  return db;
}

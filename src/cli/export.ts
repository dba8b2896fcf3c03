import { Command } from 'commander';
import { UsageError } from './exit.js';
import { progressFor } from './progress.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

interface ExportFlags {
  store?: string;
  site?: string;
  quiet?: boolean;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('the results site as static files: every page and the JSON behind it, for any static web host or to open from disk')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--site <dir>', 'write the site into DIR (a new or empty folder, or an earlier export, which is replaced)')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: ExportFlags) => {
      if (!flags.site) throw new UsageError('say where: --site DIR (a new or empty folder, or an earlier export)');
      const location = await storeLocationOf(flags.store);
      const [{ openStore }, { exportSite }, { builtSiteDir }] = await Promise.all([
        import('../store/index.js'), import('../web/export.js'), import('../web/site-files.js'),
      ]);
      const siteDir = builtSiteDir();
      if (!siteDir) throw new Error('the site is not built (dist/site/ is missing): run `npm run build` first');
      const progress = await progressFor(Boolean(flags.quiet));
      const store = await openStore(location, { poolSize: 5 });
      try {
        const summary = await exportSite({ db: store.pool, siteDir, outDir: flags.site, progress });
        progress.stop();
        if (!flags.quiet) {
          process.stderr.write(`exported ${summary.images} images (${summary.maliciousImages} malicious, ${summary.failed} failed scans, ${summary.indicators} indicators) ` +
            `from ${store.location} into ${flags.site}: ${summary.files} files; open ${flags.site}/index.html, or serve the folder from any web host\n`);
        }
      } finally {
        progress.stop();
        await store.close();
      }
    });
}

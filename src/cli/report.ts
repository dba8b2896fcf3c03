import { Command, Option } from 'commander';
import { UsageError } from './exit.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

interface ReportFlags {
  store?: string;
  aggregate?: boolean;
  format: 'md' | 'json' | 'html';
  output?: string;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('reports over the results store: --aggregate, "the state of the registry" (the figures over every image judged)')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--aggregate', 'the figures over every image in the store: shares by worst vulnerability, threats with their pulls, top pools, wallets, domains, tools and CVEs, results by day')
    .addOption(new Option('--format <format>', 'md (to read and quote), html (one offline page with charts) or json (for scripts)').choices(['md', 'html', 'json']).default('md'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(async (flags: ReportFlags) => {
      if (!flags.aggregate) throw new UsageError('say which report: --aggregate (the figures over every image in the store)');
      const location = await storeLocationOf(flags.store);
      const [{ openStore }, { aggregate }, { renderAggregateMarkdown }] = await Promise.all([
        import('../store/index.js'), import('../store/aggregate.js'), import('../report/aggregate.js'),
      ]);
      const renderHtml = flags.format === 'html' ? (await import('../report/html.js')).renderAggregateHtml : undefined;
      const store = await openStore(location, { poolSize: 1 });
      let text: string;
      try {
        const figures = await aggregate(store.pool);
        text = renderHtml ? renderHtml(figures) : flags.format === 'json' ? `${JSON.stringify(figures, null, 2)}\n` : renderAggregateMarkdown(figures);
      } finally {
        await store.close();
      }
      if (flags.output) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(flags.output, text);
      } else {
        process.stdout.write(text);
      }
    });
}

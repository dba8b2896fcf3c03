import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DETONATE_TIMEOUT_MS } from '../detonate/limits.js';
import { parseByteSize } from '../util/format.js';
import type { CrawlOptions, CrawlOrder } from '../crawl/source.js';
import type { CrawlRunResult } from '../crawl/run.js';
import { EXIT, UsageError } from './exit.js';
import { progressFor } from './progress.js';
import { parseDuration } from './scan.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

interface CrawlFlags {
  store?: string;
  tags?: string;
  sample?: string;
  seed?: string;
  order: CrawlOrder;
  maxImageSize?: number;
  platform?: string;
  staticOnly?: boolean;
  detonateTimeout: number;
  insecureRegistry: string[];
  restart?: boolean;
  json?: boolean;
  format: 'text' | 'json';
  quiet?: boolean;
}

function byteSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes <= 0) throw new InvalidArgumentError(`"${text}" is not a size: write e.g. 500MB, 2GB or 1.5GiB`);
  return bytes;
}

/** `detonate crawl --json`: one entry per source. */
export interface CrawlJson {
  source: string;
  crawl: number;
  resumed: boolean;
  status: 'done' | 'stopped' | 'failed';
  error?: string;
  /** This run. */
  targets: number;
  enqueued: number;
  alreadyQueued: number;
  skipped: number;
  /** The whole pass, earlier runs of it included. */
  pass: { targets: number; enqueued: number; alreadyQueued: number; skipped: number };
}

function jsonOf(r: CrawlRunResult): CrawlJson {
  return {
    source: r.source,
    crawl: r.crawlId,
    resumed: r.resumed,
    status: r.error ? 'failed' : r.status,
    ...(r.error ? { error: r.error.message } : {}),
    ...r.counts,
    pass: r.pass,
  };
}

export function crawlCommand(): Command {
  return new Command('crawl')
    .description('enqueue the images of registries, Docker Hub namespaces or searches, or reference files, for workers to scan; resumable: run it again to go on where it stopped')
    .argument('<source...>', 'registry:HOST[:PORT], dockerhub:NAMESPACE, dockerhub:search:TERM or file:PATH')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--tags <which>', 'tags per repository: latest, newest:N or all (default latest; not for file:)')
    .option('--sample <n>', 'N repositories (lines of a file) picked by --seed: the same seed gives the same sample')
    .option('--seed <text>', 'the sample\'s seed (default: "detonate")')
    .addOption(new Option('--order <order>', 'repositories by name, or most pulled first (Docker Hub)').choices(['name', 'pulls']).default('name'))
    .option('--max-image-size <size>', 'record larger images (compressed, as the registry says) as skipped instead of scanning them, e.g. 2GB', byteSize)
    .option('--platform <os/arch[/variant]|all>', "platform the workers scan (default: the worker's own); `all` scans every platform")
    .option('--static-only', 'no detonation: any worker can take these jobs, none runs the image')
    .option('--detonate-timeout <duration>', 'wall-clock budget of each run in the sandbox (e.g. 30s, 2m)', parseDuration, DEFAULT_DETONATE_TIMEOUT_MS)
    .option('--insecure-registry <host>', 'plain HTTP / unverified TLS for this registry host while listing (repeatable; workers take their own)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--restart', "start each source from the beginning instead of resuming its unfinished crawl")
    .addOption(new Option('--format <format>', 'what to print on stdout when done: nothing (text: the summary goes to stderr), or one JSON object per source').choices(['text', 'json']).default('text'))
    .option('--json', 'the same as --format json')
    .option('-q, --quiet', 'no progress output')
    .action(async (sources: string[], flags: CrawlFlags) => {
      const { parseCrawlSource, parseTagSelection, parseSample, CrawlError } = await import('../crawl/source.js');
      const progress = await progressFor(Boolean(flags.quiet));
      const crawl: CrawlOptions = { order: flags.order, insecureRegistries: flags.insecureRegistry, notice: (m) => progress.log(`notice: ${m}`) };
      try {
        if (flags.tags !== undefined) crawl.tags = parseTagSelection(flags.tags);
        if (flags.seed !== undefined && flags.sample === undefined) throw new CrawlError('--seed goes with --sample N');
        if (flags.sample !== undefined) crawl.sample = parseSample(flags.sample, flags.seed ?? 'detonate');
        if (flags.maxImageSize !== undefined) crawl.maxImageSizeBytes = flags.maxImageSize;
        if (flags.platform !== undefined) crawl.platform = flags.platform;
        // every spec checked before the store is opened: a typo in the third source should not wait for the first two
        for (const spec of sources) parseCrawlSource(spec, crawl);
      } catch (err) {
        if (err instanceof CrawlError) throw new UsageError(err.message);
        throw err;
      }
      const location = await storeLocationOf(flags.store);
      const [{ openStore }, { ScanQueue }, { runCrawl, describeCounts }] = await Promise.all([import('../store/index.js'), import('../store/queue.js'), import('../crawl/run.js')]);

      const stop = new AbortController();
      let signalled: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) return;
        signalled = signal;
        progress.log(`${signal}: committing what is listed so far; run the same command again to resume`);
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const results: CrawlRunResult[] = [];
      try {
        const store = await openStore(location, { poolSize: 3 });
        try {
          const queue = await ScanQueue.open(store);
          try {
            for (const spec of sources) {
              if (stop.signal.aborted) break;
              const result = await runCrawl(spec, {
                store,
                queue,
                crawl,
                job: {
                  staticOnly: Boolean(flags.staticOnly),
                  detonateTimeoutMs: flags.detonateTimeout,
                  ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
                  ...(flags.maxImageSize !== undefined ? { maxImageSizeBytes: flags.maxImageSize } : {}),
                },
                restart: Boolean(flags.restart),
                signal: stop.signal,
                progress,
              });
              results.push(result);
              if (!flags.quiet) progress.log(summaryLine(result, describeCounts));
            }
          } finally {
            await queue.close();
          }
        } finally {
          await store.close();
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        progress.stop();
      }
      if (flags.json || flags.format === 'json') for (const r of results) process.stdout.write(`${JSON.stringify(jsonOf(r))}\n`);
      if (signalled) process.exitCode = signalled === 'SIGINT' ? 130 : 143;
      else if (results.some((r) => r.error)) process.exitCode = EXIT.error;
    });
}

function summaryLine(r: CrawlRunResult, describeCounts: (c: CrawlRunResult['counts']) => string): string {
  const what = describeCounts(r.counts);
  const resumed = r.resumed ? ` (resumed; ${r.pass.targets} in this crawl so far)` : '';
  if (r.error) return `crawl ${r.source} stopped: ${r.error.message}\n  ${what}${resumed}; run the same command again to resume after the last image queued`;
  if (r.status === 'stopped') return `crawl ${r.source} stopped: ${what}${resumed}; run the same command again to resume`;
  return `crawl ${r.source} done: ${what}${resumed}`;
}

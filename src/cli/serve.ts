import { Command, InvalidArgumentError } from 'commander';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

interface ServeFlags {
  store?: string;
  port: number;
  host: string;
  rateLimit?: number;
}

function parseWhole(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`"${text}" is not a whole number from ${min} to ${max}`);
    return n;
  };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description("the results store's read-only JSON API (search, image pages, listings, the dashboard's figures; OpenAPI at /api/docs)")
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--port <n>', 'port to listen on (0: any free port)', parseWhole(0, 65535), 8080)
    .option('--host <address>', 'address to listen on; anything but loopback makes it public', '127.0.0.1')
    .option('--rate-limit <n>', 'requests per minute one client address may make', parseWhole(1, 1_000_000))
    .action(async (flags: ServeFlags) => {
      const location = await storeLocationOf(flags.store);
      const [{ openStore }, { buildServer }, { SERVE_POOL_SIZE }, { builtSiteDir }] = await Promise.all([
        import('../store/index.js'), import('../web/server.js'), import('../web/limits.js'), import('../web/site-files.js'),
      ]);
      const siteDir = builtSiteDir();
      const store = await openStore(location, { poolSize: SERVE_POOL_SIZE });
      const app = await buildServer({
        db: store.pool,
        ...(siteDir ? { siteDir } : {}),
        ...(flags.rateLimit ? { rateLimitPerMinute: flags.rateLimit } : {}),
        onServerError: (error, url) => process.stderr.write(`${new Date().toISOString()} GET ${url.slice(0, 300)}: ${error.message}\n`),
      });
      let stopping: Promise<void> | undefined;
      const stop = () => (stopping ??= (async () => {
        await app.close();
        await store.close();
      })());
      try {
        const address = await app.listen({ port: flags.port, host: flags.host });
        process.stderr.write(`serving ${store.location} at ${address} (API: ${address}/api/docs); Ctrl-C stops\n`);
        if (!siteDir) process.stderr.write('the site is not built (npm run build makes dist/site/): serving the API alone\n');
      } catch (err) {
        await stop();
        throw new Error(`cannot listen on ${flags.host}:${flags.port}: ${(err as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => void stop().then(resolve, resolve);
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
    });
}

import { Command } from 'commander';
import type { StoreLocation, StoreSummary } from '../store/index.js';
import { formatBytes } from '../util/format.js';
import { UsageError } from './exit.js';

/** What `--store` takes; `local` (or the option alone) is this machine's private store. */
export const STORE_OPTION_HELP = "the results store: postgres://USER@HOST/DB (a shared server) or local (this machine's private store)";

const LOOKS_LIKE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `--store` may stand alone (the private store). Commander would take the next argument, an image, as its value:
 * a bare `--store` becomes `--store=local` unless a URL or `local` follows it.
 */
export function expandBareStoreOption(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--store') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && (next === 'local' || LOOKS_LIKE_URL.test(next))) {
      out.push(`--store=${next}`);
      i++;
    } else {
      out.push('--store=local');
    }
  }
  return out;
}

/** The `--store` value as a location; a value that is neither a URL nor `local` is a usage error. */
export async function storeLocationOf(value: string | undefined): Promise<StoreLocation> {
  const { parseStoreLocation, StoreError } = await import('../store/index.js');
  try {
    return parseStoreLocation(value ?? 'local');
  } catch (err) {
    if (err instanceof StoreError) throw new UsageError(err.message);
    throw err;
  }
}

interface StatusJson extends Partial<StoreSummary> {
  kind: 'private' | 'server';
  location: string;
  /** Private store: whether it has been made yet. */
  initialized?: boolean;
  /** Private store: whether its server was running before this command. */
  running?: boolean;
  pinned?: boolean;
  dataDir?: string;
  socketDir?: string;
  logFile?: string;
}

function privateOnly(action: string, location: StoreLocation): void {
  if (location.kind !== 'private') {
    throw new UsageError(`store ${action} manages this machine's private store; a shared server (--store postgres://…) is started and stopped by its administrator`);
  }
}

export function storeCommand(): Command {
  const store = new Command('store').description("the results store: this machine's private PostgreSQL cluster, or a shared server (--store postgres://…)");

  store.command('start')
    .description('make the private store if needed, start its server, and keep it running until `detonate store stop`')
    .option('--store <where>', STORE_OPTION_HELP)
    .action(async (flags: { store?: string }) => {
      const location = await storeLocationOf(flags.store);
      privateOnly('start', location);
      const { PrivateCluster, openStore } = await import('../store/index.js');
      const cluster = await PrivateCluster.locate();
      const made = await cluster.ensureInitialized();
      await cluster.pin();
      const opened = await openStore({ kind: 'private', root: cluster.root });
      await opened.close();
      process.stderr.write(`${made ? 'made and started' : 'started'} the private store in ${cluster.root} (socket ${cluster.socketDir}); it runs until detonate store stop\n`);
    });

  store.command('stop')
    .description('stop the private store\'s server now (processes using it lose their connection) and unpin it')
    .option('--store <where>', STORE_OPTION_HELP)
    .action(async (flags: { store?: string }) => {
      const location = await storeLocationOf(flags.store);
      privateOnly('stop', location);
      const { PrivateCluster } = await import('../store/index.js');
      const cluster = await PrivateCluster.locate();
      await cluster.unpin();
      const stopped = await cluster.stop();
      process.stderr.write(stopped ? `stopped the private store in ${cluster.root}\n` : `the private store in ${cluster.root} was not running\n`);
    });

  store.command('status')
    .description('where the results are, whether the server runs, its version, size, and how many images and scans it holds')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--json', 'print JSON (for scripts)')
    .action(async (flags: { store?: string; json?: boolean }) => {
      const location = await storeLocationOf(flags.store);
      const status = await storeStatus(location);
      process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
    });
  return store;
}

async function storeStatus(location: StoreLocation): Promise<StatusJson> {
  const { PrivateCluster, openStore, describeUrl } = await import('../store/index.js');
  if (location.kind === 'server') {
    const opened = await openStore(location, { poolSize: 1 });
    try {
      return { kind: 'server', location: describeUrl(location.url), ...withoutLocation(await opened.summary()) };
    } finally {
      await opened.close();
    }
  }
  const cluster = await PrivateCluster.locate(location.root);
  const where = { kind: 'private' as const, location: cluster.root, initialized: cluster.initialized() };
  const paths = { dataDir: cluster.dataDir, socketDir: cluster.socketDir, logFile: cluster.logFile };
  if (!where.initialized) return { ...where, running: false, ...paths };
  const running = await cluster.running();
  // A stopped server is started for the counts, and stopped again when this command is its only user.
  const opened = await openStore({ kind: 'private', root: cluster.root }, { poolSize: 1 });
  try {
    const summary = withoutLocation(await opened.summary());
    // this command's own lease is not one of the processes using the store
    return { ...where, running, pinned: cluster.pinned(), ...paths, ...summary, leases: Math.max(0, (summary.leases ?? 1) - 1) };
  } finally {
    await opened.close();
  }
}

function withoutLocation(summary: StoreSummary): Omit<StoreSummary, 'location'> {
  const { location: _location, ...rest } = summary;
  return rest;
}

function statusText(s: StatusJson): string {
  const lines: string[] = [];
  if (s.kind === 'private') {
    lines.push(`store      this machine's private store in ${s.location}`);
    if (!s.initialized) {
      lines.push('server     none yet: it is made on first use (detonate store start, or scan --store)');
      return `${lines.join('\n')}\n`;
    }
    const state = s.running ? `running${s.pinned ? ' (kept up by detonate store start)' : ''}` : 'stopped (started for this status and stopped again)';
    lines.push(`server     ${state}, PostgreSQL ${s.serverVersion}`);
    lines.push(`socket     ${s.socketDir}`);
    lines.push(`log        ${s.logFile}`);
    lines.push(`processes  ${s.leases ?? 0} other Detonate process(es) using it now`);
  } else {
    lines.push(`store      shared server ${s.location}`);
    lines.push(`server     PostgreSQL ${s.serverVersion}`);
  }
  lines.push(`schema     version ${s.schemaVersion}`);
  lines.push(`size       ${formatBytes(s.bytes ?? 0)}`);
  lines.push(`images     ${s.images}`);
  lines.push(`scans      ${s.scans?.done ?? 0} done, ${s.scans?.failed ?? 0} failed, ${s.scans?.skipped ?? 0} skipped`);
  lines.push(`layers     ${s.layerResults} stored static results`);
  return `${lines.join('\n')}\n`;
}

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StoreError } from './errors.js';
import { STORE_LOOKUP_TIMEOUT_MS } from './limits.js';

const run = promisify(execFile);

/** The server programs the private store runs. */
const NEEDED = ['initdb', 'pg_ctl', 'postgres'] as const;
const DEBIAN_ROOT = '/usr/lib/postgresql';

const hasServer = (dir: string) => NEEDED.every((name) => existsSync(join(dir, name)));

/**
 * The directory of PostgreSQL's server programs: `DETONATE_PG_BINDIR`, else `pg_config --bindir` when it holds
 * them (libpq-dev's pg_config names the directory even where the server is not installed), else the newest
 * `/usr/lib/postgresql/N/bin` (Debian's layout). Throws with the fix when there is none.
 */
export async function findServerBinDir(
  env: NodeJS.ProcessEnv = process.env,
  where: { pgConfig?: string; debianRoot?: string } = {},
): Promise<string> {
  const override = env.DETONATE_PG_BINDIR;
  if (override) {
    if (hasServer(override)) return override;
    throw new StoreError(`DETONATE_PG_BINDIR=${override} does not hold PostgreSQL's ${NEEDED.join(', ')}`, 'point it at the bin directory of a PostgreSQL server installation');
  }
  const fromPgConfig = await run(where.pgConfig ?? 'pg_config', ['--bindir'], { timeout: STORE_LOOKUP_TIMEOUT_MS }).then((r) => r.stdout.trim(), () => '');
  if (fromPgConfig && hasServer(fromPgConfig)) return fromPgConfig;
  const versions = (() => {
    try {
      return readdirSync(where.debianRoot ?? DEBIAN_ROOT).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    } catch {
      return [];
    }
  })();
  for (const version of versions) {
    const dir = join(where.debianRoot ?? DEBIAN_ROOT, version, 'bin');
    if (hasServer(dir)) return dir;
  }
  throw new StoreError(
    `the private results store needs the PostgreSQL server (${NEEDED.join(', ')}), and it is not installed`,
    "run scripts/install.sh (it installs Debian's postgresql package), or use a shared server with --store postgres://…",
  );
}

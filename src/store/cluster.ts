/**
 * Detonate's private PostgreSQL cluster: the results store of one machine when no `--store URL` is given.
 *
 * It lives in `$DETONATE_DATA_DIR/pg`, else `$XDG_DATA_HOME/detonate/pg`, else `~/.local/share/detonate/pg`
 * (as root: `/var/lib/detonate/pg`, because the server runs as the `postgres` user, which cannot reach into
 * root's home):
 *
 *   pg/data/         the cluster (PGDATA), made once by initdb; owned by the server's user, mode 0700
 *   pg/run/          the unix socket (no TCP: `listen_addresses = ''`), owned by the server's user, mode 0700
 *   pg/log/          the server's log
 *   pg/pinned        present after `detonate store start`: the server stays up until `detonate store stop`
 *
 * The server runs as whoever runs Detonate, except as root, where initdb refuses to run: there it runs as
 * Debian's `postgres` user. Clients authenticate by peer (the kernel says who is on the other end of the socket):
 * only that user and the one who made the cluster may connect, as the role `detonate`.
 *
 * Starting, sharing and stopping are in `lease.ts`; this module only makes, starts and stops the cluster.
 */
import { processAlive } from '../util/process.js';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { findServerBinDir } from './binaries.js';
import { STORE_LOOKUP_TIMEOUT_MS, STORE_SERVER_START_TIMEOUT_SECONDS } from './limits.js';

/** The role Detonate connects as, and the database its tables are in. */
export const PRIVATE_ROLE = 'detonate';
export const PRIVATE_DATABASE = 'postgres';
const PORT = 5432;
/** sun_path is 108 bytes on Linux, the terminating NUL included. */
export const SOCKET_PATH_MAX = 107;
/** The user a root-run Detonate runs the server as (Debian's postgresql package creates it). */
const ROOT_SERVER_USER = 'postgres';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** Where the private cluster lives (see the module comment). */
export function defaultClusterRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (env.DETONATE_DATA_DIR) return join(env.DETONATE_DATA_DIR, 'pg');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'detonate', 'pg');
  if (uid === 0) return '/var/lib/detonate/pg';
  return join(homedir(), '.local', 'share', 'detonate', 'pg');
}

async function lookupUser(name: string): Promise<OsUser | undefined> {
  const line = await new Promise<string>((resolve) => {
    execFile('getent', ['passwd', name], { timeout: STORE_LOOKUP_TIMEOUT_MS }, (err, stdout) => resolve(err ? '' : stdout.trim()));
  });
  const fields = line.split(':');
  if (fields.length < 4 || fields[0] !== name) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** The socket file's directory: `pg/run` when the path fits in a unix socket address, else a short one in /tmp. */
export function socketDirFor(root: string): string {
  const fits = (dir: string) => Buffer.byteLength(join(dir, `.s.PGSQL.${PORT}`)) <= SOCKET_PATH_MAX;
  const own = join(root, 'run');
  if (fits(own)) return own;
  const name = `detonate-pg-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
  for (const base of [tmpdir(), '/tmp']) if (fits(join(base, name))) return join(base, name);
  throw new StoreError(`the store's socket path would be longer than ${SOCKET_PATH_MAX} bytes`, 'set DETONATE_DATA_DIR (or TMPDIR) to a shorter path');
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PrivateCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly pinFile: string;

  /**
   * @param root        the cluster's directory (`defaultClusterRoot()`)
   * @param binDir      PostgreSQL's server programs (`findServerBinDir()`)
   * @param serverUser  who runs the server; undefined: the user running Detonate
   */
  constructor(
    readonly root: string,
    readonly binDir: string,
    readonly serverUser?: OsUser,
  ) {
    this.dataDir = join(root, 'data');
    this.socketDir = socketDirFor(root);
    this.logFile = join(root, 'log', 'server.log');
    this.pinFile = join(root, 'pinned');
  }

  /** The private cluster at `root` (default: `defaultClusterRoot()`), with the server programs found. */
  static async locate(root: string = defaultClusterRoot()): Promise<PrivateCluster> {
    const binDir = await findServerBinDir();
    if (process.getuid?.() !== 0) return new PrivateCluster(root, binDir);
    const user = await lookupUser(ROOT_SERVER_USER);
    if (!user) {
      throw new StoreError(
        `run as root, the private store runs PostgreSQL as the "${ROOT_SERVER_USER}" user (initdb refuses root), and there is no such user`,
        "run scripts/install.sh (Debian's postgresql package creates it), or run Detonate as an unprivileged user",
      );
    }
    return new PrivateCluster(root, binDir, user);
  }

  /**
   * How to connect: the socket directory (pg's `host`), the port in the socket's name, the role and database; never
   * TLS (a PGSSLMODE in the environment is for other servers).
   */
  connection(): { host: string; port: number; user: string; database: string; ssl: false } {
    return { host: this.socketDir, port: PORT, user: PRIVATE_ROLE, database: PRIVATE_DATABASE, ssl: false };
  }

  get socketFile(): string {
    return join(this.socketDir, `.s.PGSQL.${PORT}`);
  }

  initialized(): boolean {
    return existsSync(join(this.dataDir, 'PG_VERSION'));
  }

  /**
   * Makes the cluster unless it exists. initdb writes into a directory of its own, renamed into place when
   * complete, so two Detonate processes that both find no cluster cannot write into one directory, and a killed
   * initdb leaves no half-made cluster behind. True when this call made it.
   */
  async ensureInitialized(): Promise<boolean> {
    if (this.initialized()) return false;
    await fs.mkdir(this.root, { recursive: true, mode: this.serverUser ? 0o755 : 0o700 });
    await this.removeAbandonedInitDirs();
    if (this.serverUser) await this.checkServerUserReaches(this.root);
    const staging = join(this.root, `data.init-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(staging, { mode: 0o700 });
    try {
      await this.chownToServer(staging);
      const init = await this.runServerProgram('initdb', [
        '--pgdata', staging, '--username', PRIVATE_ROLE, '--encoding', 'UTF8', '--locale', 'C',
        '--auth-local', 'peer', '--auth-host', 'reject', '--no-instructions',
      ]);
      if (init.code !== 0) throw new StoreError(`initdb failed in ${staging}: ${lastLines(init.stderr || init.stdout)}`, 'see the message above');
      await this.writeAccessRules(staging);
      await fs.appendFile(join(staging, 'postgresql.conf'), "\n# Detonate: settings written at each start\ninclude_if_exists = 'detonate.conf'\n");
      try {
        await fs.rename(staging, this.dataDir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.initialized()) return false; // another process made it first
        throw err;
      }
      return true;
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** Starts the server and waits until it accepts connections. Throws when it did not start (with the log's end). */
  async start(): Promise<void> {
    if (!this.initialized()) throw new StoreError(`there is no store in ${this.root}`, 'it is made on first use (detonate store start)');
    await this.checkOwner();
    await this.ensureOwnedDir(join(this.root, 'log'));
    await this.ensureSocketDir();
    const settings = join(this.dataDir, 'detonate.conf');
    await fs.writeFile(settings, [
      '# Written by Detonate at each start of its private store: unix socket only, in a directory of its own.',
      "listen_addresses = ''",
      `port = ${PORT}`,
      `unix_socket_directories = '${this.socketDir.replaceAll("'", "''")}'`,
      'unix_socket_permissions = 0700',
      '',
    ].join('\n'));
    await this.chownToServer(settings);
    const started = await this.runServerProgram('pg_ctl', ['start', '--pgdata', this.dataDir, '--log', this.logFile, '--wait', '--timeout', String(STORE_SERVER_START_TIMEOUT_SECONDS), '--silent']);
    if (started.code !== 0) {
      const log = await fs.readFile(this.logFile, 'utf8').catch(() => '');
      throw new StoreError(`the private store's server did not start: ${lastLines(started.stderr)}${log ? `\n${lastLines(log, 8)}` : ''}`, `see ${this.logFile}`);
    }
  }

  /** Stops the server (fast: open sessions are ended). False when it was not running. */
  async stop(): Promise<boolean> {
    if (!this.initialized()) return false;
    const stopped = await this.runServerProgram('pg_ctl', ['stop', '--pgdata', this.dataDir, '--mode', 'fast', '--wait', '--timeout', String(STORE_SERVER_START_TIMEOUT_SECONDS), '--silent']);
    if (stopped.code === 0) return true;
    if (/PID file .* does not exist|is server running/i.test(stopped.stderr)) return false;
    throw new StoreError(`the private store's server did not stop: ${lastLines(stopped.stderr)}`, `see ${this.logFile}`);
  }

  /** Whether a server runs on the data directory (pg_ctl status: its pid file names a live postmaster). */
  async running(): Promise<boolean> {
    if (!this.initialized()) return false;
    return (await this.runServerProgram('pg_ctl', ['status', '--pgdata', this.dataDir])).code === 0;
  }

  /** `detonate store start` pins the server: the last Detonate process to finish leaves it running. */
  async pin(): Promise<void> {
    await fs.writeFile(this.pinFile, `${new Date().toISOString()}\n`);
  }

  async unpin(): Promise<void> {
    await fs.rm(this.pinFile, { force: true });
  }

  pinned(): boolean {
    return existsSync(this.pinFile);
  }

  /** Bytes on disk under the data directory (what `store status` shows when the server is not asked). */
  async diskBytes(): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) total += (await fs.lstat(path).catch(() => ({ size: 0 }))).size;
      }
    };
    await walk(this.dataDir);
    return total;
  }

  /** peer authentication, mapped: the server's user and the user who made the cluster may connect as `detonate`. */
  private async writeAccessRules(dataDir: string): Promise<void> {
    const users = new Set([userInfo().username, ...(this.serverUser ? [this.serverUser.name] : [])]);
    await fs.writeFile(join(dataDir, 'pg_hba.conf'), [
      "# Detonate's private store: the unix socket only, for the OS users pg_ident.conf maps to the detonate role.",
      'local all all peer map=detonate',
      '',
    ].join('\n'));
    await fs.writeFile(join(dataDir, 'pg_ident.conf'), [
      '# MAPNAME  SYSTEM-USERNAME  PG-USERNAME',
      ...[...users].map((user) => `detonate ${user} ${PRIVATE_ROLE}`),
      '',
    ].join('\n'));
  }

  private get serverUid(): number | undefined {
    return this.serverUser?.uid ?? process.getuid?.();
  }

  /** A cluster another user made cannot be run by this one (and PostgreSQL would refuse its data directory). */
  private async checkOwner(): Promise<void> {
    const owner = (await fs.stat(this.dataDir)).uid;
    if (owner === this.serverUid) return;
    const name = await ownerName(owner);
    throw new StoreError(
      `the private store in ${this.root} belongs to ${name}, and this Detonate would run its server as ${this.serverUser?.name ?? userInfo().username}`,
      `run Detonate as ${name}, or set DETONATE_DATA_DIR to a store of your own`,
    );
  }

  /** The socket's directory, made if missing; one that is not a private directory of the server's user is refused. */
  private async ensureSocketDir(): Promise<void> {
    await this.ensureOwnedDir(this.socketDir);
    const info = await fs.lstat(this.socketDir);
    if (!info.isDirectory() || info.uid !== this.serverUid || (info.mode & 0o077) !== 0) {
      const own = this.socketDir === join(this.root, 'run');
      throw new StoreError(
        `the store's socket directory ${this.socketDir} is not a private directory of the server's user (${this.serverUser?.name ?? userInfo().username})`,
        own ? 'remove it, and it is made again at the next start' : `remove it, or set DETONATE_DATA_DIR to a shorter path, so the socket can live in ${join(this.root, 'run')}`,
      );
    }
  }

  private async ensureOwnedDir(dir: string): Promise<void> {
    try {
      await fs.mkdir(dir, { mode: 0o700 });
      await this.chownToServer(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  private async chownToServer(path: string): Promise<void> {
    if (this.serverUser) await fs.chown(path, this.serverUser.uid, this.serverUser.gid);
  }

  /** Staging directories of an initdb whose process is gone. */
  private async removeAbandonedInitDirs(): Promise<void> {
    for (const name of await fs.readdir(this.root).catch(() => [] as string[])) {
      const m = /^data\.init-(\d+)-[0-9a-f]{8}$/.exec(name);
      if (m && !processAlive(Number(m[1]))) await fs.rm(join(this.root, name), { recursive: true, force: true });
    }
  }

  private async checkServerUserReaches(dir: string): Promise<void> {
    const probe = await this.run('test', ['-x', dir, '-a', '-r', dir]);
    if (probe.code !== 0) {
      throw new StoreError(
        `the "${this.serverUser?.name}" user, which runs the private store's server, cannot reach ${dir} (a directory above it is closed to it)`,
        'set DETONATE_DATA_DIR to a directory it can reach, e.g. /var/lib/detonate',
      );
    }
  }

  private runServerProgram(name: 'initdb' | 'pg_ctl', args: string[]): Promise<RunResult> {
    return this.run(join(this.binDir, name), args);
  }

  /** Runs a program as the server's user (root: setuid/setgid in the child, supplementary groups dropped). */
  private run(program: string, args: string[]): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      execFile(program, args, {
        cwd: this.root,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC', HOME: this.root },
        timeout: (STORE_SERVER_START_TIMEOUT_SECONDS + 30) * 1000,
        ...(this.serverUser ? { uid: this.serverUser.uid, gid: this.serverUser.gid } : {}),
      }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new StoreError(`could not run ${program}: ${err.message}`));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      });
    });
  }
}

async function ownerName(uid: number): Promise<string> {
  const line = await new Promise<string>((resolve) => {
    execFile('getent', ['passwd', String(uid)], { timeout: STORE_LOOKUP_TIMEOUT_MS }, (err, stdout) => resolve(err ? '' : stdout.trim()));
  });
  return line.split(':')[0] || `uid ${uid}`;
}


function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { defaultClusterRoot, PrivateCluster, socketDirFor, SOCKET_PATH_MAX } from '../../src/store/cluster.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';

const asRoot = process.getuid?.() === 0;
let work: string;
/** The data dir of the lease tests' store (DETONATE_DATA_DIR): the cluster is in `<dataDir>/pg`. */
let dataDir: string;
let cluster: PrivateCluster;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-cluster-'));
  chmodSync(work, 0o755); // as root, the server runs as postgres, which must reach its directory
  dataDir = join(work, 'data');
  cluster = await PrivateCluster.locate(join(dataDir, 'pg'));
  await cluster.ensureInitialized();
});

afterAll(async () => {
  await cluster?.stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

interface Holder {
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with its output once it has exited. */
  exited: Promise<string>;
}

/** Another process holding a lease on the store at `root` (test/support/store-holder.ts), once it says `ready`. */
async function holdStore(root: string): Promise<Holder> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/store-holder.ts'), root], { cwd: repoRoot });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => out.includes('ready\n') && resolve());
    child.on('exit', (code) => reject(new Error(`the store holder exited (${code}) before it was ready: ${err}`)));
  });
  return { child, output: () => out, exited };
}

describe('the private cluster', () => {
  it('is made once, by one of two processes that find none, and belongs to the server user', async () => {
    const root = join(work, 'made', 'pg');
    const [a, b] = await Promise.all([PrivateCluster.locate(root), PrivateCluster.locate(root)]);
    const made = await Promise.all([a!.ensureInitialized(), b!.ensureInitialized()]);
    expect(made.filter(Boolean)).toHaveLength(1);
    expect(await a!.ensureInitialized()).toBe(false);
    expect(existsSync(join(root, 'data', 'PG_VERSION'))).toBe(true);
    expect(readFileSync(join(root, 'data', 'pg_hba.conf'), 'utf8')).toMatch(/^local all all peer map=detonate$/m);
    expect(readFileSync(join(root, 'data', 'pg_hba.conf'), 'utf8')).not.toMatch(/^host/m);
    const owner = statSync(join(root, 'data'));
    expect(owner.mode & 0o777).toBe(0o700);
    if (asRoot) expect(owner.uid).toBe(a!.serverUser!.uid);
    expect((await import('node:fs')).readdirSync(root).filter((n) => n.startsWith('data.init-'))).toEqual([]);
  });

  it('is started on demand, on a unix socket only, and stopped when the last lease goes', async () => {
    expect(await cluster.running()).toBe(false);
    const store = await openStore({ kind: 'private', root: cluster.root });
    expect(await cluster.running()).toBe(true);
    expect(existsSync(cluster.socketFile)).toBe(true);
    const { rows } = await store.pool.query<{ listen: string }>("SELECT current_setting('listen_addresses') AS listen");
    expect(rows[0]!.listen).toBe('');
    expect((await store.summary()).leases).toBe(1);
    expect(await store.close()).toBe(true);
    expect(await cluster.running()).toBe(false);
  });

  it("is shared by two processes' leases: the first to leave leaves it running, the last stops it", async () => {
    const holder = await holdStore(cluster.root);
    expect(await cluster.running()).toBe(true);
    const store = await openStore({ kind: 'private', root: cluster.root });
    expect((await store.summary()).leases).toBe(2);
    expect(await store.close()).toBe(false);
    expect(await cluster.running()).toBe(true);
    holder.child.stdin.end();
    expect(await holder.exited).toContain('closed true');
    expect(await cluster.running()).toBe(false);
  });

  it("ignores the lease of a process killed with SIGKILL: the next one out stops the server", async () => {
    const holder = await holdStore(cluster.root);
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(await cluster.running()).toBe(true);
    const store = await openStore({ kind: 'private', root: cluster.root });
    expect((await store.summary()).leases).toBe(1);
    expect(await store.close()).toBe(true);
    expect(await cluster.running()).toBe(false);
  });

  it('`store stop` stops it while a process holds a lease; `store start` keeps it up until `store stop`', async () => {
    const env = { DETONATE_DATA_DIR: dataDir };
    const holder = await holdStore(cluster.root);
    const stop = await runCli(['store', 'stop'], env);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain(`stopped the private store in ${cluster.root}`);
    expect(await cluster.running()).toBe(false);
    holder.child.stdin.end();
    expect(await holder.exited).toContain('closed false');

    const start = await runCli(['store', 'start'], env);
    expect(start.code).toBe(0);
    expect(start.stderr).toContain(`started the private store in ${cluster.root}`);
    expect(await cluster.running()).toBe(true);
    const store = await openStore({ kind: 'private', root: cluster.root });
    expect(await store.close()).toBe(false); // pinned: the last lease leaves it running
    const status = await runCli(['store', 'status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ kind: 'private', location: cluster.root, initialized: true, running: true, pinned: true, schemaVersion: 8, leases: 0 });
    expect((await runCli(['store', 'stop'], env)).code).toBe(0);
    expect(await cluster.running()).toBe(false);
    expect(cluster.pinned()).toBe(false);
  });

  it('lives in DETONATE_DATA_DIR, else XDG_DATA_HOME, else ~/.local/share (as root: /var/lib/detonate)', () => {
    expect(defaultClusterRoot({ DETONATE_DATA_DIR: '/d', XDG_DATA_HOME: '/x' }, 1000)).toBe('/d/pg');
    expect(defaultClusterRoot({ XDG_DATA_HOME: '/x' }, 1000)).toBe('/x/detonate/pg');
    expect(defaultClusterRoot({}, 0)).toBe('/var/lib/detonate/pg');
    expect(defaultClusterRoot({}, 1000)).toMatch(/\/\.local\/share\/detonate\/pg$/);
  });

  it('a data dir whose path is too long for a socket gets a short, private socket directory', async () => {
    const root = join(work, 'x'.repeat(120), 'pg');
    const dir = socketDirFor(root);
    expect(dir).toMatch(/\/detonate-pg-[0-9a-f]{12}$/);
    expect(Buffer.byteLength(join(dir, '.s.PGSQL.5432'))).toBeLessThanOrEqual(SOCKET_PATH_MAX);
    expect(socketDirFor(join(work, 'pg'))).toBe(join(work, 'pg', 'run'));
  });

  it.runIf(asRoot)('a directory the postgres user cannot reach: what is wrong and what to do', async () => {
    const closed = join(work, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    const c = await PrivateCluster.locate(join(closed, 'pg'));
    await expect(c.ensureInitialized()).rejects.toThrow(/the "postgres" user, which runs the private store's server, cannot reach .*closed\/pg .*: set DETONATE_DATA_DIR to a directory it can reach/);
  });

  it.runIf(asRoot)("another user's store: whose it is and what to do", async () => {
    const asNobody = new PrivateCluster(cluster.root, cluster.binDir, { name: 'nobody', uid: 65534, gid: 65534 });
    await expect(asNobody.start()).rejects.toThrow(/the private store in .* belongs to postgres, and this Detonate would run its server as nobody: run Detonate as postgres, or set DETONATE_DATA_DIR/);
  });

  it('server programs that are not there: the error names the fix', async () => {
    const { findServerBinDir } = await import('../../src/store/binaries.js');
    await expect(findServerBinDir({ DETONATE_PG_BINDIR: join(work, 'nothing') })).rejects.toThrow(/does not hold PostgreSQL's initdb, pg_ctl, postgres/);
    await expect(findServerBinDir({}, { pgConfig: join(work, 'no-pg_config'), debianRoot: join(work, 'nothing') }))
      .rejects.toThrow(/needs the PostgreSQL server .* and it is not installed: run scripts\/install.sh/);
    expect(await findServerBinDir({})).toMatch(/\/bin$/);
  });
});

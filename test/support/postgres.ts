/**
 * A throwaway PostgreSQL server for tests: Debian's server programs, a cluster in a temporary directory, listening
 * on 127.0.0.1 at a free port with a random password (as the `postgres` user when the tests run as root: initdb
 * refuses root). Durability is switched off: it is thrown away. `stop()` stops it and removes the directory.
 *
 * One server per test file (start it in `beforeAll`, stop it in `afterAll`); each test that needs a clean schema
 * takes a database of its own (`freshDatabase()`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findServerBinDir } from '../../src/store/binaries.js';
import { freePort } from './registry.js';

export interface TestPostgres {
  /** `postgres://detonate:PASSWORD@127.0.0.1:PORT/postgres` */
  url: string;
  /** A new, empty database on this server; its URL. */
  freshDatabase(): Promise<string>;
  /** Stops the server (fast: sessions are ended), waits `downMs`, and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
}

function postgresUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', 'postgres'], (err, stdout) => {
      if (err) {
        reject(new Error('tests run as root need the postgres user (scripts/install.sh --test installs Debian\'s postgresql)'));
        return;
      }
      const f = stdout.trim().split(':');
      resolve({ uid: Number(f[2]), gid: Number(f[3]) });
    });
  });
}

function runAs(user: OsUser | undefined, cwd: string, program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { cwd, env: { PATH: process.env.PATH, LC_ALL: 'C', TZ: 'UTC' }, ...(user ? { uid: user.uid, gid: user.gid } : {}) }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

let databases = 0;

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = await findServerBinDir();
  const user = await postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'detonate-pg-test-'));
  chmodSync(dir, 0o755);
  const own = (path: string) => user && chownSync(path, user.uid, user.gid);
  own(dir);
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  own(pwfile);
  const data = join(dir, 'data');
  await runAs(user, dir, join(bin, 'initdb'), [
    '--pgdata', data, '--username', 'detonate', '--pwfile', pwfile, '--auth', 'scram-sha-256', '--encoding', 'UTF8', '--locale', 'C', '--no-sync', '--no-instructions',
  ]);
  const port = await freePort();
  const options = [
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`,
    '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
  ].join(' ');
  await runAs(user, dir, join(bin, 'pg_ctl'), ['start', '--pgdata', data, '--log', join(dir, 'server.log'), '--wait', '--silent', '-o', options]);
  const url = `postgres://detonate:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    async freshDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://detonate:${password}@127.0.0.1:${port}/${name}`;
    },
    async restart(downMs = 0) {
      await runAs(user, dir, join(bin, 'pg_ctl'), ['stop', '--pgdata', data, '--mode', 'fast', '--wait', '--silent']);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await runAs(user, dir, join(bin, 'pg_ctl'), ['start', '--pgdata', data, '--log', join(dir, 'server.log'), '--wait', '--silent', '-o', options]);
    },
    async stop() {
      await runAs(user, dir, join(bin, 'pg_ctl'), ['stop', '--pgdata', data, '--mode', 'immediate', '--wait', '--silent']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { expandBareStoreOption } from '../../src/cli/store.js';
import { openStore } from '../../src/store/index.js';
import { PrivateCluster } from '../../src/store/cluster.js';
import { renderJson } from '../../src/report/json.js';
import type { Report } from '../../src/model/index.js';

const example = `oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`;
let work: string;
let env: NodeJS.ProcessEnv;
let server: TestPostgres;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-cli-store-'));
  chmodSync(work, 0o755); // the private store's server runs as postgres when the tests run as root
  env = { DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_DATA_DIR: join(work, 'data') };
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The newest stored report of the image a printed report is of. */
async function storedReport(url: string, printed: Report): Promise<Report | null> {
  const store = await openStore({ kind: 'server', url });
  try {
    return await store.getLatestReport(printed.image.digest, printed.image.platform);
  } finally {
    await store.close();
  }
}

describe('detonate scan --store', () => {
  it('records the report it prints, as the JSON contract writes it (a shared server)', async () => {
    const url = await server.freshDatabase();
    const r = await runCli(['scan', '--static-only', '--store', url, example], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('recorded 1 report(s): postgres://detonate:***@127.0.0.1:');
    expect(r.stderr).not.toContain(new URL(url).password);
    const printed = JSON.parse(r.stdout) as Report;
    const stored = await storedReport(url, printed);
    expect(stored).not.toBeNull();
    expect(renderJson([stored!])).toBe(r.stdout);

    // the same scan again is the same stored scan
    expect((await runCli(['scan', '--static-only', '-q', `--store=${url}`, example], env)).code).toBe(0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT status, count(*)::int AS n FROM scans GROUP BY status");
      expect(rows).toEqual([{ status: 'done', n: 1 }]);
      expect((await client.query('SELECT count(*)::int AS n FROM scan_packages')).rows[0]).toEqual({ n: printed.packages.length });
    } finally {
      await client.end();
    }
  });

  it('records an image that could not be scanned as failed, with the reason; the others are still recorded', async () => {
    const url = await server.freshDatabase();
    const r = await runCli(['scan', '--static-only', '-q', '--store', url, 'oci-archive:/nonexistent/image.tar', example], env);
    expect(r.code).toBe(2);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT status, reference, failed_stage, reason, report IS NULL AS no_report FROM scans ORDER BY id');
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ status: 'failed', reference: 'oci-archive:/nonexistent/image.tar', failed_stage: 'scan', no_report: true });
      expect(rows[0].reason).toMatch(/cannot open archive \/nonexistent\/image.tar/);
      expect(rows[1]).toMatchObject({ status: 'done', no_report: false });
    } finally {
      await client.end();
    }
  });

  it('--store alone is the private store, made and started on demand and stopped after the scan', async () => {
    const r = await runCli(['scan', '--static-only', '--store', example], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`results store: private store in ${join(work, 'data', 'pg')}`);
    const cluster = await PrivateCluster.locate(join(work, 'data', 'pg'));
    expect(await cluster.running()).toBe(false);
    const store = await openStore({ kind: 'private', root: cluster.root });
    try {
      const printed = JSON.parse(r.stdout) as Report;
      expect(renderJson([(await store.getLatestReport(printed.image.digest, printed.image.platform))!])).toBe(r.stdout);
    } finally {
      await store.close();
    }
    const status = await runCli(['store', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^store {6}this machine's private store in .*\/data\/pg$/m);
    expect(status.stdout).toMatch(/^scans {6}1 done, 0 failed, 0 skipped$/m);
  });

  it.each([
    [['scan', '--static-only', '--store=mysql://x', example], /--store takes postgres:\/\/USER\[:PASSWORD\]@HOST\[:PORT\]\/DATABASE \(a shared server\) or local/],
    [['store', 'start', '--store', 'postgres://127.0.0.1:1/x'], /store start manages this machine's private store; a shared server .* is started and stopped by its administrator/],
    [['store', 'status', '--store', 'postgres://detonate:secret@127.0.0.1:1/x'], /cannot use the store at postgres:\/\/detonate:\*\*\*@127\.0\.0\.1:1\/x: .*: check the URL/],
  ])('exit 2 with what to do: %j', async (args, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('secret');
    expect(r.stdout).toBe('');
  });

  it('store status on a shared server, the password from PGPASSWORD', async () => {
    const url = new URL(await server.freshDatabase());
    const password = url.password;
    url.password = '';
    const r = await runCli(['store', 'status', '--json', '--store', url.toString()], { ...env, PGPASSWORD: password });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'server', schemaVersion: 8, images: 0, scans: { done: 0, failed: 0, skipped: 0 } });
  });
});

describe('a bare --store', () => {
  it.each([
    [['scan', '--store', 'img'], ['scan', '--store=local', 'img']],
    [['scan', '--store', 'local', 'img'], ['scan', '--store=local', 'img']],
    [['scan', '--store', 'postgres://h/db', 'img'], ['scan', '--store=postgres://h/db', 'img']],
    [['store', 'status', '--store'], ['store', 'status', '--store=local']],
    [['scan', '--', '--store'], ['scan', '--', '--store']],
  ])('%j → %j', (argv, expanded) => {
    expect(expandBareStoreOption(argv)).toEqual(expanded);
  });
});

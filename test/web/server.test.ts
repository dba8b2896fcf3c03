import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { repoRoot } from '../support/paths.js';
import { openStore, type Store } from '../../src/store/index.js';
import { buildServer } from '../../src/web/server.js';
import type { FastifyInstance } from 'fastify';
import { HOSTILE_DOMAIN, fillSampleStore, storeDigest } from '../store/sample-store.js';

let server: TestPostgres;
let url: string;
let store: Store;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  server = await startTestPostgres();
  url = await server.freshDatabase();
  store = await openStore({ kind: 'server', url });
  await fillSampleStore(store);
  app = await buildServer({ db: store.pool });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
  await server?.stop();
});

// the API's answers are checked field by field below
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: await r.json(), headers: r.headers };
}
const refs = (body: { items: Array<{ references: string[] }> }) => body.items.flatMap((i) => i.references).sort();

describe('detonate serve: the JSON API over a store', () => {
  it('searches by any part of a repository or tag, digest, package, vulnerability alias and indicator', async () => {
    const miner = await get('/api/search?q=TEAM/MIN');
    expect(miner.status).toBe(200);
    expect(miner.body).toMatchObject({ kind: 'repository', page: 1, more: false });
    expect(refs(miner.body)).toEqual(['docker.io/team/miner:latest', 'docker.io/team/miner:v2']);
    expect(miner.body.items[0]).toMatchObject({ digest: storeDigest(2), malicious: true, categories: ['cryptominer'], pulls: 5000, detonated: true });

    const byDigest = await get(`/api/search?q=${storeDigest(3)}`);
    expect(byDigest.body.kind).toBe('digest');
    expect(refs(byDigest.body)).toEqual(['registry.example.test/odd/tools:1']);
    // a wildcard in the query is a character, not a pattern
    expect((await get('/api/search?q=%25&kind=repository')).body.items).toEqual([]);

    expect((await get(`/api/search?q=${encodeURIComponent('openssl@3.0.11-1~deb12u2')}`)).body).toMatchObject({ kind: 'package' });
    expect((await get(`/api/search?q=${encodeURIComponent('openssl@3.0.11-1~deb12u2')}`)).body.items).toHaveLength(3);
    expect((await get('/api/search?q=openssl&kind=package')).body.items).toHaveLength(3);
    expect((await get('/api/search?q=openssl@9.9&kind=package')).body.items).toHaveLength(0);
    const alias = await get('/api/search?q=dsa-5532-1');
    expect(alias.body.kind).toBe('vulnerability');
    expect(alias.body.items).toHaveLength(3);
    const wallet = await get('/api/search?q=4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge&kind=indicator');
    expect(refs(wallet.body)).toEqual(['docker.io/team/miner:latest', 'docker.io/team/miner:v2']);
    const hostile = await get(`/api/indicators/domain/${encodeURIComponent(HOSTILE_DOMAIN)}`);
    expect(hostile.status).toBe(200);
    expect(refs(hostile.body)).toEqual(['registry.example.test/odd/tools:1']);
  });

  it('pages results within bounds and refuses what is out of them', async () => {
    const first = await get('/api/search?q=openssl&kind=package&pageSize=2');
    expect(first.body).toMatchObject({ page: 1, pageSize: 2, more: true });
    const second = await get('/api/search?q=openssl&kind=package&pageSize=2&page=2');
    expect(second.body).toMatchObject({ page: 2, more: false });
    expect(new Set([...first.body.items, ...second.body.items].map((i: { digest: string }) => i.digest)).size).toBe(3);
    for (const bad of ['/api/search?q=x&pageSize=1000', `/api/search?q=${'x'.repeat(300)}`, '/api/search', '/api/search?q=x&kind=everything', '/api/search?q=x&page=10001&pageSize=100', '/api/images/sha256:zz']) {
      const r = await get(bad);
      expect(r.status, bad).toBe(400);
      expect(typeof r.body.error, bad).toBe('string');
    }
  });

  it("gives an image's page: its current report, its tags and pulls; 404 with a reason for an image it does not have", async () => {
    const page = await get(`/api/images/${storeDigest(2)}`);
    expect(page.status).toBe(200);
    expect(page.body.report.verdict).toMatchObject({ malicious: true, summary: 'A cryptominer.' });
    expect(page.body.references.map((r: { reference: string }) => r.reference)).toEqual(['docker.io/team/miner:latest', 'docker.io/team/miner:v2']);
    expect(page.body.references[0].pulls).toBe(5000);
    // its miner is in its base layer, which the other two images were built on too
    expect(page.body.sharingMaliciousLayers).toEqual([
      { digest: storeDigest(1), platform: 'linux/amd64', references: ['docker.io/team/web:1.0'], layers: [`sha256:${'c'.repeat(64)}`] },
      { digest: storeDigest(3), platform: 'linux/amd64', references: ['registry.example.test/odd/tools:1'], layers: [`sha256:${'c'.repeat(64)}`] },
    ]);
    // the clean image has no malicious layer of its own to follow
    expect((await get(`/api/images/${storeDigest(1)}`)).body.sharingMaliciousLayers).toEqual([]);
    const missing = await get(`/api/images/${storeDigest(99)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/no result for sha256:0+63 \(linux\/amd64\)/);
  });

  it('lists malicious images by category, failed and skipped scans with why, and the dashboard figures', async () => {
    expect(refs((await get('/api/malicious?category=windows-malware')).body)).toEqual(['registry.example.test/odd/tools:1']);
    expect((await get('/api/malicious')).body.items).toHaveLength(2);
    const failed = await get('/api/failed');
    expect(failed.body.items.map((f: { reference: string; status: string; stage: string | null; reason: string }) => [f.reference, f.status, f.stage, f.reason]).sort()).toEqual([
      ['docker.io/team/broken:1', 'failed', 'pull', 'manifest unknown'],
      ['docker.io/team/huge:1', 'skipped', null, 'larger than --max-image-size'],
    ]);
    const dashboard = await get('/api/dashboard');
    expect(dashboard.body.images).toMatchObject({ judged: 3, malicious: 2, maliciousPulls: 5000 });
  });

  it('answers with strict security headers, reads only, and documents every route as OpenAPI', async () => {
    const r = await get('/api/dashboard');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await fetch(`${base}/api/search?q=x`, { method })).status).toBe(404);
    const docs = await get('/api/docs');
    expect(docs.body.openapi).toBe('3.1.0');
    expect(Object.keys(docs.body.paths).sort()).toEqual(['/api/dashboard', '/api/failed', '/api/images/{digest}', '/api/indicators/{kind}/{value}', '/api/malicious', '/api/search']);
    expect(docs.body.paths['/api/search'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['q', 'kind', 'page', 'pageSize']);
  });

  it('a store that cannot answer is a 500 saying so, and the operator is told why', async () => {
    const { default: pg } = await import('pg');
    const down = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    const told: string[] = [];
    const broken = await buildServer({ db: down, onServerError: (error, url) => told.push(`${url}: ${error.message}`) });
    const at = await broken.listen({ port: 0, host: '127.0.0.1' });
    try {
      const r = await fetch(`${at}/api/failed`);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ error: 'the store could not answer; try again later' });
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/^\/api\/failed: .*ECONNREFUSED/);
    } finally {
      await broken.close();
      await down.end();
    }
  });

  it('limits each client to its rate: 429 past it', async () => {
    const limited = await buildServer({ db: store.pool, rateLimitPerMinute: 5 });
    const at = await limited.listen({ port: 0, host: '127.0.0.1' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await fetch(`${at}/api/failed`)).status);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('detonate serve listens on loopback, says where, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--store', url, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !/serving .* at (http:\/\/127\.0\.0\.1:\d+)/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const address = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1];
      expect(address, err).toBeDefined();
      expect(((await (await fetch(`${address}/api/dashboard`)).json()) as { images: { judged: number } }).images.judged).toBe(3);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      // a failed assertion must not leave the server running
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

/**
 * `dockerhub:NAMESPACE` and `dockerhub:search:TERM` against a loopback server that serves Docker Hub's API shapes
 * (FakeDockerHub): pagination, resumption, `--tags`, sampling, order by pull count, sizes, 429 with `Retry-After` and
 * `X-Retry-After`, the search cap and its sharding, login with the Docker config's credentials, hostile answers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseCrawlSource, type CrawlCursor, type CrawlItem, type CrawlOptions } from '../../src/crawl/source.js';
import { FakeDockerHub, type HubRepository } from '../support/crawl-fixtures.js';
import { dockerConfigDir } from '../support/registry.js';

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function acmeRepository(i: number): HubRepository {
  const name = `svc-${String(i).padStart(3, '0')}`;
  const tag = (tagName: string, day: number) => ({
    name: tagName,
    digest: digestOf(`${name}:${tagName}`),
    full_size: 1000 * (i + 1) + day,
    last_updated: `2024-05-${String(day).padStart(2, '0')}T00:00:00Z`,
    tag_last_pushed: `2024-05-${String(day).padStart(2, '0')}T00:00:00Z`,
    images: [{ architecture: 'amd64', os: 'linux', digest: digestOf(`${name}:${tagName}:amd64`), size: 1000 }],
  });
  // pushed order differs from name order: v1 newest, then latest, then v2
  return { namespace: 'acme', name, pull_count: (i * 7919) % 100_003, tags: [tag('latest', 10), tag('v1', 20), tag('v2', 5)] };
}

function searchRepositories(): HubRepository[] {
  const out: HubRepository[] = [];
  const add = (name: string, pulls: number) => out.push({ namespace: 'searchns', name, pull_count: pulls, tags: [{ name: 'latest', digest: digestOf(name) }] });
  // "web" + a–j: 10 each (a one-character refinement reaches them); "webk" + a–d: 10 each (needs two characters)
  for (const c of 'abcdefghij') for (let i = 0; i < 10; i++) add(`web${c}${i}`, 500 + i);
  for (const c of 'abcd') for (let i = 0; i < 10; i++) add(`webk${c}${i}`, 100 + i);
  return out;
}

let hub: FakeDockerHub;
beforeAll(async () => {
  hub = await new FakeDockerHub().start();
  hub.repositories.push(...Array.from({ length: 250 }, (_, i) => acmeRepository(i)), ...searchRepositories());
  hub.repositories.push(
    { namespace: 'library', name: 'nginx', pull_count: 1_000_000, tags: [{ name: 'latest', digest: digestOf('nginx'), full_size: 70_000_000 }] },
    { namespace: 'bitnami', name: 'nginx', pull_count: 5_000, tags: [{ name: 'latest', digest: digestOf('bitnami/nginx'), full_size: 90_000_000 }] },
  );
});
afterAll(() => hub.stop());
beforeEach(() => {
  hub.handle = undefined;
  hub.requests.length = 0;
  hub.searchCap = 10_000;
  hub.account = undefined;
});

async function crawl(spec: string, options: CrawlOptions = {}, resume: CrawlCursor | null = null): Promise<{ items: CrawlItem[]; notices: string[] }> {
  const notices: string[] = [];
  const items: CrawlItem[] = [];
  const source = parseCrawlSource(spec, { dockerHubApi: hub.base, retry: { baseDelayMs: 10 }, ...options, notice: (m) => notices.push(m) });
  for await (const item of source.targets(resume)) items.push(item);
  return { items, notices };
}

const refs = (items: CrawlItem[]) => items.map((i) => i.target.reference);

describe('dockerhub:NAMESPACE', () => {
  it('pages through the namespace and each tag listing; targets carry pull count, digest, size and push date', async () => {
    const { items, notices } = await crawl('dockerhub:acme', { tags: { mode: 'all' }, limits: { dockerHubPageSize: 10 } });
    expect(notices).toEqual([]);
    expect(items).toHaveLength(750);
    expect(hub.seen('/v2/namespaces/acme/repositories').filter((r) => !r.path.includes('/tags'))).toHaveLength(25);
    expect(new Set(refs(items)).size).toBe(750);
    expect(items[0]!.target).toEqual({
      registry: 'docker.io',
      repository: 'acme/svc-000',
      tag: 'latest',
      reference: 'docker.io/acme/svc-000:latest',
      digest: digestOf('svc-000:latest'),
      pullCount: 0,
      sizeBytes: 1010,
      updatedAt: '2024-05-10T00:00:00Z',
    });
    expect(refs(items.slice(0, 3))).toEqual(['docker.io/acme/svc-000:latest', 'docker.io/acme/svc-000:v1', 'docker.io/acme/svc-000:v2']);
  });

  it('--tags latest reads the one tag; newest:N takes the most recently pushed', async () => {
    const latest = await crawl('dockerhub:acme', { tags: { mode: 'latest' }, sample: { size: 3, seed: 's' } });
    expect(latest.items.map((i) => i.target.tag)).toEqual(['latest', 'latest', 'latest']);
    expect(hub.seen('/v2/namespaces/acme/repositories/').every((r) => r.path.endsWith('/tags/latest'))).toBe(true);
    const newest = await crawl('dockerhub:acme', { tags: { mode: 'newest', count: 2 }, sample: { size: 3, seed: 's' } });
    expect(newest.items.map((i) => i.target.tag)).toEqual(['v1', 'latest', 'v1', 'latest', 'v1', 'latest']);
  });

  it('orders by pull count, most pulled first', async () => {
    const { items } = await crawl('dockerhub:acme', { order: 'pulls' });
    const pulls = items.map((i) => i.target.pullCount!);
    expect(items).toHaveLength(250);
    expect(pulls).toEqual([...pulls].sort((a, b) => b - a));
  });

  it('resumes from a cursor anywhere with exactly the rest, by name and by pull count', async () => {
    for (const order of ['name', 'pulls'] as const) {
      const options: CrawlOptions = { tags: { mode: 'all' }, order, limits: { dockerHubPageSize: 50 } };
      const full = (await crawl('dockerhub:acme', options)).items;
      for (const k of [1, 2, 3, 400, 749, 750]) {
        const cursor = JSON.parse(JSON.stringify(full[k - 1]!.cursor)) as CrawlCursor;
        const rest = (await crawl('dockerhub:acme', options, cursor)).items;
        expect(refs(rest), `${order}, resumed after item ${k}`).toEqual(refs(full.slice(k)));
      }
    }
  });

  it('samples reproducibly: same seed same set whatever the page size, another seed another set, N repositories', async () => {
    const repos = (items: CrawlItem[]) => new Set(items.map((i) => i.target.repository));
    const a = repos((await crawl('dockerhub:acme', { sample: { size: 20, seed: '7' } })).items);
    const b = repos((await crawl('dockerhub:acme', { sample: { size: 20, seed: '7' }, limits: { dockerHubPageSize: 7 } })).items);
    const c = repos((await crawl('dockerhub:acme', { sample: { size: 20, seed: '8' } })).items);
    expect(a.size).toBe(20);
    expect(b).toEqual(a);
    expect(c.size).toBe(20);
    expect(c).not.toEqual(a);
  });

  it('--max-image-size skips tags whose full_size is over it, with the reason', async () => {
    const { items } = await crawl('dockerhub:acme', { tags: { mode: 'all' }, maxImageSizeBytes: 5_000 });
    const skipped = items.filter((i) => i.skip);
    // full_size is 1000 × (i + 1) + day (5 to 20): only repositories 0–3 stay within 5000
    expect(items).toHaveLength(750);
    expect(items.length - skipped.length).toBe(4 * 3);
    expect(skipped[0]!.skip).toMatch(/is over --max-image-size 5\.0 kB/);
  });

  it('honours 429 with Retry-After: the request is sent again after the delay, nothing fails', async () => {
    let refused = false;
    hub.handle = (_req, res, url) => {
      if (refused || !url.pathname.endsWith('/tags/latest')) return false;
      refused = true;
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"detail":"Rate limit exceeded"}');
      return true;
    };
    const { items } = await crawl('dockerhub:acme', { sample: { size: 2, seed: 'r' } });
    expect(items).toHaveLength(2);
    const tagRequests = hub.seen('/v2/namespaces/acme/repositories/');
    expect(tagRequests[1]!.path).toBe(tagRequests[0]!.path);
    expect(tagRequests[1]!.at - tagRequests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("honours Docker Hub's X-Retry-After (a Unix time)", async () => {
    let refused = false;
    hub.handle = (_req, res, url) => {
      if (refused || !url.pathname.endsWith('/tags/latest')) return false;
      refused = true;
      res.writeHead(429, { 'x-retry-after': String(Math.floor(Date.now() / 1000) + 2) }).end();
      return true;
    };
    const { items } = await crawl('dockerhub:acme', { sample: { size: 1, seed: 'r' } });
    expect(items).toHaveLength(1);
    const tagRequests = hub.seen('/v2/namespaces/acme/repositories/');
    expect(tagRequests[1]!.at - tagRequests[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('stops with a clear error when the wait asked for is longer than the retry policy allows (resume later)', async () => {
    hub.handle = (_req, res, url) => {
      if (!url.pathname.endsWith('/tags/latest')) return false;
      res.writeHead(429, { 'retry-after': '3600' }).end();
      return true;
    };
    await expect(crawl('dockerhub:acme', { sample: { size: 1, seed: 'r' } })).rejects.toThrow(/rate limited; it asks to retry after 3600s/);
  });

  it('says when a namespace does not exist', async () => {
    await expect(crawl('dockerhub:nobody')).rejects.toThrow(/the repositories of "nobody" was not found on Docker Hub \(404/);
  });

  it('logs in with the Docker config credentials when asked, and goes on anonymously when refused', async () => {
    hub.account = { identifier: 'crawler', secret: 'pat-123', token: 'token-abc' };
    const good = dockerConfigDir({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('crawler:pat-123').toString('base64') } } });
    const bad = dockerConfigDir({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('crawler:wrong').toString('base64') } } });
    try {
      await crawl('dockerhub:acme', { dockerHubLogin: true, env: { DOCKER_CONFIG: good.path }, sample: { size: 2, seed: 'l' } });
      const listing = hub.requests.filter((r) => r.path.startsWith('/v2/namespaces/'));
      expect(listing.length).toBeGreaterThan(0);
      expect(listing.every((r) => r.authorization === 'Bearer token-abc')).toBe(true);
      expect(hub.seen('/v2/auth/token')).toHaveLength(1);

      hub.requests.length = 0;
      const refused = await crawl('dockerhub:acme', { dockerHubLogin: true, env: { DOCKER_CONFIG: bad.path }, sample: { size: 2, seed: 'l' } });
      expect(refused.items).toHaveLength(2);
      expect(refused.notices[0]).toMatch(/refused the login of "crawler" .*\(401.*; listing anonymously/);
      expect(hub.requests.filter((r) => r.authorization)).toEqual([]);

      // credentials never go to a base URL other than Docker Hub's unless asked
      hub.requests.length = 0;
      await crawl('dockerhub:acme', { env: { DOCKER_CONFIG: good.path }, sample: { size: 1, seed: 'l' } });
      expect(hub.seen('/v2/auth/token')).toEqual([]);
    } finally {
      good.remove();
      bad.remove();
    }
  });

  it('yields nothing more once its signal is aborted', async () => {
    const controller = new AbortController();
    const seen: CrawlItem[] = [];
    const source = parseCrawlSource('dockerhub:acme', { dockerHubApi: hub.base, tags: { mode: 'all' } });
    await expect(
      (async () => {
        for await (const item of source.targets(null, controller.signal)) {
          seen.push(item);
          if (seen.length === 4) controller.abort();
        }
      })(),
    ).rejects.toThrow(/aborted/i);
    expect(seen).toHaveLength(4);
    expect(hub.seen('/v2/namespaces/acme/repositories/')).toHaveLength(2);
  });

  it('takes the API address from DETONATE_DOCKERHUB_API', async () => {
    const source = parseCrawlSource('dockerhub:acme', { env: { DETONATE_DOCKERHUB_API: hub.base }, sample: { size: 1, seed: 'e' } });
    const items: CrawlItem[] = [];
    for await (const item of source.targets(null)) items.push(item);
    expect(items).toHaveLength(1);
  });
});

describe('dockerhub:search:TERM', () => {
  it('maps official results to library/ and others to their namespace', async () => {
    const { items } = await crawl('dockerhub:search:nginx', { order: 'pulls' });
    expect(refs(items)).toEqual(['docker.io/library/nginx:latest', 'docker.io/bitnami/nginx:latest']);
    expect(items[0]!.target.pullCount).toBe(1_000_000);
  });

  it('shards a capped query by refining TERM, and dedupes what the shards find', async () => {
    hub.searchCap = 30;
    const { items, notices } = await crawl('dockerhub:search:web', { limits: { dockerHubPageSize: 10 } });
    expect(notices).toEqual([]);
    expect(items).toHaveLength(140);
    expect(new Set(refs(items)).size).toBe(140);
    const queries = new Set(hub.seen('/v2/search/repositories').map((r) => r.query.get('query')));
    expect(queries.has('web')).toBe(true);
    expect(queries.has('webk')).toBe(true);
    expect(queries.has('webka')).toBe(true);
    // refinements that are not capped are not refined again
    expect(queries.has('webaa')).toBe(false);
  });

  it('says so when refinement is bounded and the cap still hides results', async () => {
    hub.searchCap = 30;
    const { items, notices } = await crawl('dockerhub:search:web', { limits: { maxSearchRefinementDepth: 1 } });
    expect(items.length).toBeGreaterThanOrEqual(100);
    expect(items.length).toBeLessThan(140);
    expect(notices).toEqual([expect.stringMatching(/the search for "webk" reached 30 of its 40 matches, and is not refined further/)]);
  });

  it('resumes a sharded search with exactly the rest', async () => {
    hub.searchCap = 30;
    const full = (await crawl('dockerhub:search:web', { order: 'pulls' })).items;
    const rest = (await crawl('dockerhub:search:web', { order: 'pulls' }, full[69]!.cursor)).items;
    expect(refs(rest)).toEqual(refs(full.slice(70)));
  });
});

describe('a hostile Docker Hub API', () => {
  const answer = (path: RegExp, body: string | Buffer, status = 200) => {
    hub.handle = (_req, res, url) => {
      if (!path.test(url.pathname + url.search)) return false;
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      return true;
    };
  };

  it('refuses a next link to another host', async () => {
    answer(/^\/v2\/namespaces\/acme\/repositories\?/, JSON.stringify({ count: 2, next: 'http://203.0.113.9/v2/namespaces/acme/repositories?page=2', results: [{ name: 'svc-000', namespace: 'acme', pull_count: 1 }] }));
    await expect(crawl('dockerhub:acme')).rejects.toThrow(/links to another host \("203\.0\.113\.9"\)/);
    expect(hub.requests.every((r) => !r.path.includes('203.0.113.9'))).toBe(true);
  });

  it('refuses a page that links back to itself instead of looping', async () => {
    hub.handle = (_req, res, url) => {
      if (url.pathname !== '/v2/namespaces/acme/repositories') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 9, next: url.href, results: [] }));
      return true;
    };
    await expect(crawl('dockerhub:acme')).rejects.toThrow(/links back to a page it already sent/);
  });

  it('refuses garbage, a page that is not a listing, and a page over the size limit', async () => {
    answer(/^\/v2\/namespaces\/acme\/repositories\?/, '<html>not json');
    await expect(crawl('dockerhub:acme')).rejects.toThrow(/with something that is not JSON/);
    answer(/^\/v2\/namespaces\/acme\/repositories\?/, JSON.stringify({ results: 'nope' }));
    await expect(crawl('dockerhub:acme')).rejects.toThrow(/without a "results" list/);
    answer(/^\/v2\/namespaces\/acme\/repositories\?/, Buffer.alloc(300_000, 0x20));
    await expect(crawl('dockerhub:acme', { limits: { maxPageBytes: 100_000 } })).rejects.toThrow(/larger than the 100000-byte limit/);
  });

  it('skips names that are no repository or tag, and a repository whose tags are garbage, and goes on', async () => {
    const odd = ['../../etc', 'UPPER', 'a b', 'nul\u0000x', 'ok-one', 'ok-two', 'x'.repeat(300)];
    hub.handle = (_req, res, url) => {
      if (url.pathname === '/v2/namespaces/weird/repositories') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: odd.length + 1, next: null, results: [...odd.map((name) => ({ name, namespace: 'weird', pull_count: 1 })), { pull_count: 3 }] }));
        return true;
      }
      if (url.pathname === '/v2/namespaces/weird/repositories/ok-one/tags') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 3, next: null, results: [{ name: 'good' }, { name: '-bad' }, { name: 'a/b' }] }));
        return true;
      }
      if (url.pathname === '/v2/namespaces/weird/repositories/ok-two/tags') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results": {"not": "a list"}}');
        return true;
      }
      return false;
    };
    const { items, notices } = await crawl('dockerhub:weird', { tags: { mode: 'all' } });
    expect(refs(items)).toEqual(['docker.io/weird/ok-one:good']);
    expect(notices.filter((n) => /": not a valid repository name$/.test(n))).toHaveLength(5);
    expect(notices.some((n) => /without a name/.test(n))).toBe(true);
    expect(notices.filter((n) => /skipped "weird\/ok-one:(-bad|a\/b)"/.test(n))).toHaveLength(2);
    expect(notices.some((n) => /skipped repository "weird\/ok-two": .*without a "results" list/.test(n))).toBe(true);
    // notices quote what the server sent: no raw control characters reach the terminal
    expect(notices.join('\n').includes('\u0000')).toBe(false);
  });
});

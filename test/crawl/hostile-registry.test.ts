/**
 * `registry:HOST` against a scripted registry (FakeRegistry on 127.0.0.1) that answers what a real one would not:
 * links to other hosts, pages that loop, huge or garbage pages, names with odd characters, a stalled server, errors.
 * Each gives a clear error (the listing itself) or a notice and a skip (one repository), never a crash or a hang.
 * Also what distribution 2.8 cannot show: tag lists paged with relative and absolute `Link`s.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { parseCrawlSource, type CrawlItem, type CrawlOptions } from '../../src/crawl/source.js';
import { FakeRegistry } from '../support/registry.js';

let fake: FakeRegistry;
beforeAll(async () => {
  fake = await new FakeRegistry().start();
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.handle = undefined;
  fake.requests.length = 0;
});

function json(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): true {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(text);
  return true;
}

/** Serves `catalog` pages by the request's full URL (path and query), and tag lists by repository. */
function serve(catalog: (url: URL, res: ServerResponse) => boolean, tags: (repository: string, url: URL, res: ServerResponse) => boolean = () => false): void {
  fake.handle = (req, res, path) => {
    const url = new URL(req.url ?? '/', `http://${fake.host}`);
    if (path === '/v2/_catalog') return catalog(url, res);
    const m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
    if (m) return tags(m[1]!, url, res);
    return false;
  };
}

async function crawl(options: CrawlOptions = {}): Promise<{ items: CrawlItem[]; notices: string[] }> {
  const notices: string[] = [];
  const items: CrawlItem[] = [];
  const source = parseCrawlSource(`registry:${fake.host}`, { tags: { mode: 'all' }, retry: { attempts: 2, baseDelayMs: 10 }, ...options, notice: (m) => notices.push(m) });
  for await (const item of source.targets(null)) items.push(item);
  return { items, notices };
}

const simpleTags = (repository: string, _url: URL, res: ServerResponse) => json(res, { name: repository, tags: ['v1'] });

describe('a hostile registry', () => {
  it('follows relative and absolute Link headers through catalog and tag pages on the same host', async () => {
    serve(
      (url, res) => {
        if (!url.searchParams.has('last')) return json(res, { repositories: ['a/one'] }, { link: `</v2/_catalog?last=a%2Fone&n=1>; rel="next"` });
        return json(res, { repositories: ['b/two'] });
      },
      (repository, url, res) => {
        const page = Number(url.searchParams.get('page') ?? 1);
        const next = page === 1 ? `<?page=2>; rel="next"` : page === 2 ? `<http://${fake.host}/v2/${repository}/tags/list?page=3>; rel="next"` : undefined;
        return json(res, { name: repository, tags: [`t${page}`] }, next ? { link: next } : {});
      },
    );
    const { items, notices } = await crawl();
    expect(notices).toEqual([]);
    expect(items.map((i) => i.target.reference)).toEqual(['a/one:t1', 'a/one:t2', 'a/one:t3', 'b/two:t1', 'b/two:t2', 'b/two:t3'].map((r) => `${fake.host}/${r}`));
  });

  it('refuses a catalog Link to another host, and never sends a request there', async () => {
    serve((_url, res) => json(res, { repositories: ['a/one'] }, { link: '<http://203.0.113.7:5000/v2/_catalog?last=a>; rel="next"' }), simpleTags);
    await expect(crawl()).rejects.toThrow(/links to another host \(203\.0\.113\.7:5000\)/);
  });

  it('skips a repository whose tag list links to another host, and goes on', async () => {
    serve(
      (_url, res) => json(res, { repositories: ['a/evil', 'b/fine'] }),
      (repository, _url, res) => json(res, { name: repository, tags: ['v1'] }, repository === 'a/evil' ? { link: '<https://198.51.100.1/v2/x/tags/list>; rel="next"' } : {}),
    );
    const { items, notices } = await crawl();
    expect(items.map((i) => i.target.repository)).toEqual(['b/fine']);
    expect(notices).toEqual([expect.stringMatching(/skipped repository "a\/evil": a listing page of .* links to another host \(198\.51\.100\.1\)/)]);
  });

  it('refuses a catalog that links back to a page it already sent, instead of looping', async () => {
    serve((url, res) => json(res, { repositories: ['a/one'] }, { link: `<${url.pathname}${url.search}>; rel="next"` }), simpleTags);
    await expect(crawl()).rejects.toThrow(/links back to a page it already sent/);
  });

  it('refuses a catalog page over the size limit, garbage, and JSON that is not a catalog', async () => {
    serve((_url, res) => json(res, `{"repositories":["${'a'.repeat(2_000_000)}"]}`));
    await expect(crawl({ limits: { maxPageBytes: 1_000_000 } })).rejects.toThrow(/larger than the 1000000-byte limit/);
    serve((_url, res) => json(res, '\u0000\u0001 not json at all'));
    await expect(crawl()).rejects.toThrow(/is not valid JSON/);
    serve((_url, res) => json(res, { repositories: { a: 1 } }));
    await expect(crawl()).rejects.toThrow(/is not a catalog: it has no "repositories" list/);
    serve((_url, res) => json(res, [1, 2, 3]));
    await expect(crawl()).rejects.toThrow(/is not a catalog: it is not a JSON object/);
  });

  it('skips repository names and tags with odd characters with a notice, and crawls the rest', async () => {
    const names = ['ok/app', '../../etc/passwd', 'UPPER/case', 'a b', 'new\nline', 'q?x=1', 'x/%2e%2e', 42, '', 'also/ok'];
    serve(
      (_url, res) => json(res, { repositories: names }),
      (repository, _url, res) => json(res, { name: repository, tags: repository === 'also/ok' ? ['fine', '../x', '-dash', 'a'.repeat(129), 7, 'semi;colon'] : ['v1'] }),
    );
    const { items, notices } = await crawl();
    expect(items.map((i) => i.target.reference)).toEqual([`${fake.host}/also/ok:fine`, `${fake.host}/ok/app:v1`]);
    expect(notices.filter((n) => /not a valid repository name/.test(n))).toHaveLength(8);
    expect(notices.filter((n) => /not a valid tag/.test(n))).toHaveLength(5);
    expect(notices.join('\n')).not.toMatch(/\n(?!registry:)/);
    // no request went to a path built from a bad name
    expect(fake.requests.filter((r) => /tags\/list/.test(r.path)).map((r) => r.path)).toEqual(['/v2/also/ok/tags/list', '/v2/ok/app/tags/list']);
  });

  it('skips a repository whose tag list is garbage, or whose latest manifest is', async () => {
    serve(
      (_url, res) => json(res, { repositories: ['a/garbage', 'b/fine', 'c/notags'] }),
      (repository, _url, res) => (repository === 'a/garbage' ? json(res, '{"tags": "nope"}') : repository === 'c/notags' ? json(res, { name: repository, tags: null }) : json(res, { name: repository, tags: ['v1'] })),
    );
    const all = await crawl();
    expect(all.items.map((i) => i.target.repository)).toEqual(['b/fine']);
    expect(all.notices).toEqual([expect.stringMatching(/skipped repository "a\/garbage": its tag list has no "tags" array/)]);

    fake.putManifest('latest', '{"schemaVersion": 2, "layers": "what"}', 'application/vnd.oci.image.manifest.v1+json');
    serve((_url, res) => json(res, { repositories: ['a/broken'] }));
    const latest = await crawl({ tags: { mode: 'latest' } });
    expect(latest.items).toEqual([]);
    expect(latest.notices).toEqual([expect.stringMatching(/skipped repository "a\/broken": the manifest of .* is not a valid image manifest/)]);
  });

  it('cuts a catalog over maxRepositories and a tag list over maxTagsPerRepository, with notices', async () => {
    serve(
      (_url, res) => json(res, { repositories: Array.from({ length: 50 }, (_, i) => `r/n${String(i).padStart(2, '0')}`) }),
      (repository, _url, res) => json(res, { name: repository, tags: Array.from({ length: 30 }, (_, i) => `t${i}`) }),
    );
    const { items, notices } = await crawl({ limits: { maxRepositories: 3, maxTagsPerRepository: 4 } });
    expect(items).toHaveLength(12);
    expect(notices[0]).toMatch(/lists more than 3 repositories; the crawl covers the first 3/);
    expect(notices.filter((n) => /has more than 4 tags/.test(n))).toHaveLength(3);
  });

  it('says when the catalog is disabled, and gives up on a failing registry after the retries', async () => {
    serve((_url, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNSUPPORTED"}]}');
      return true;
    });
    await expect(crawl()).rejects.toThrow(/does not list its repositories \(GET \/v2\/_catalog answered 404\)[\s\S]*file: source/);
    serve((_url, res) => {
      res.writeHead(503).end('down');
      return true;
    });
    await expect(crawl()).rejects.toThrow(/503 Service Unavailable .* after 2 attempts/);
  });

  it('does not hang on a registry that stops answering', async () => {
    serve(() => true /* never answers */);
    const started = Date.now();
    await expect(crawl({ timeouts: { headersMs: 300, smallRequestMs: 600 }, retry: { attempts: 1 } })).rejects.toThrow(/did not (answer|complete) within/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

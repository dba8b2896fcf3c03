/**
 * `registry:HOST` against a real registry: Debian's docker-registry (distribution 2.8) on 127.0.0.1 holding 200
 * repositories × 3 tags (and one repository without `latest`), pushed cheaply by populateRegistry. The catalog is
 * paged 7 repositories at a time, so a crawl follows about 30 `Link` pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCrawlCursor, parseCrawlSource, type CrawlCursor, type CrawlItem, type CrawlOptions } from '../../src/crawl/source.js';
import { populateRegistry, type FixtureTag, type PopulatedRegistry } from '../support/crawl-fixtures.js';
import { dockerConfigDir, startRegistry, type RealRegistry } from '../support/registry.js';

const TAGS: FixtureTag[] = [
  { name: 'alpha', created: '2024-03-01T00:00:00Z' },
  { name: 'beta', created: '2024-01-01T00:00:00Z' },
  { name: 'latest', created: '2024-02-15T00:00:00Z' },
];
const REPOSITORIES = Array.from({ length: 200 }, (_, i) => `apps/app-${String(i).padStart(3, '0')}`);
const NO_LATEST = 'odd/no-latest';
const PAGED = { catalogPageSize: 7 };

let registry: RealRegistry;
let pushed: PopulatedRegistry;
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  cleanups.push(() => registry.stop());
  pushed = await populateRegistry(registry.host, REPOSITORIES, TAGS);
  await populateRegistry(registry.host, [NO_LATEST], [TAGS[0]!]);
}, 180_000);
afterAll(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function crawl(options: CrawlOptions, resume: CrawlCursor | null = null, spec = `registry:${registry.host}`): Promise<{ items: CrawlItem[]; notices: string[] }> {
  const notices: string[] = [];
  const items: CrawlItem[] = [];
  for await (const item of parseCrawlSource(spec, { ...options, notice: (m) => notices.push(m) }).targets(resume)) items.push(item);
  return { items, notices };
}

const refs = (items: CrawlItem[]) => items.map((i) => i.target.reference);

describe('registry: sources', () => {
  it('pages through a catalog of 201 repositories with Link and lists every tag (--tags all)', async () => {
    const { items, notices } = await crawl({ tags: { mode: 'all' }, limits: PAGED });
    expect(notices).toEqual([]);
    expect(items).toHaveLength(200 * 3 + 1);
    expect(new Set(refs(items)).size).toBe(items.length);
    // repositories in name order, tags in name order within each
    const expected = [...REPOSITORIES.flatMap((r) => ['alpha', 'beta', 'latest'].map((t) => `${registry.host}/${r}:${t}`)), `${registry.host}/${NO_LATEST}:alpha`];
    expect(refs(items)).toEqual(expected);
    expect(items[0]!.target).toEqual({ registry: registry.host, repository: 'apps/app-000', tag: 'alpha', reference: `${registry.host}/apps/app-000:alpha` });
  });

  it('resumes from a cursor anywhere with exactly the rest: none twice, none lost', async () => {
    const full = (await crawl({ tags: { mode: 'all' }, limits: PAGED })).items;
    for (const k of [1, 3, 4, 250, 599, 600, 601]) {
      // the cursor as the caller stores and reads it back
      const stored = parseCrawlCursor(JSON.parse(JSON.stringify(full[k - 1]!.cursor)));
      const rest = (await crawl({ tags: { mode: 'all' }, limits: PAGED }, stored)).items;
      expect(refs(rest), `resumed after item ${k}`).toEqual(refs(full.slice(k)));
    }
  });

  it('--tags latest: one target per repository with its digest and size; a repository without latest is a notice', async () => {
    const { items, notices } = await crawl({ tags: { mode: 'latest' }, limits: PAGED });
    expect(items).toHaveLength(200);
    const latest = pushed.manifests.get('latest')!;
    for (const { target } of items) {
      expect(target.tag).toBe('latest');
      expect(target.digest).toBe(latest.digest);
      expect(target.sizeBytes).toBe(latest.size);
    }
    expect(notices).toEqual([expect.stringMatching(/skipped repository "odd\/no-latest": it has no tag "latest"/)]);
  });

  it('--tags newest:N reads the config dates when there are few tags, and falls back to name order with a notice', async () => {
    const sample = { size: 12, seed: 'newest' };
    const dated = await crawl({ tags: { mode: 'newest', count: 2 }, sample, limits: PAGED });
    expect(dated.notices).toEqual([]);
    const byRepo = new Map<string, string[]>();
    for (const { target } of dated.items) byRepo.set(target.repository, [...(byRepo.get(target.repository) ?? []), target.tag!]);
    expect(byRepo.size).toBe(12);
    for (const [repo, tags] of byRepo) expect(tags).toEqual(repo === NO_LATEST ? ['alpha'] : ['alpha', 'latest']);
    const alpha = dated.items.find((i) => i.target.tag === 'alpha')!.target;
    expect(alpha.updatedAt).toBe('2024-03-01T00:00:00Z');
    expect(alpha.digest).toBe(pushed.manifests.get('alpha')!.digest);

    const fallback = await crawl({ tags: { mode: 'newest', count: 2 }, sample, limits: { ...PAGED, maxDatedTagsPerRepository: 2 } });
    const tags = fallback.items.filter((i) => i.target.repository !== NO_LATEST).map((i) => i.target.tag);
    expect(new Set(tags)).toEqual(new Set(['latest', 'beta']));
    expect(fallback.notices.length).toBeGreaterThan(0);
    expect(fallback.notices[0]).toMatch(/has 3 tags, more than the 2 whose dates are read; newest:2 takes the last 2 in name order/);
  });

  it('--sample N --seed S: N repositories, the same for the same seed whatever the page size, another for another seed', async () => {
    const repos = (items: CrawlItem[]) => new Set(items.map((i) => i.target.repository));
    const a = repos((await crawl({ tags: { mode: 'all' }, sample: { size: 25, seed: 'one' }, limits: PAGED })).items);
    const again = repos((await crawl({ tags: { mode: 'all' }, sample: { size: 25, seed: 'one' }, limits: { catalogPageSize: 50 } })).items);
    const other = repos((await crawl({ tags: { mode: 'all' }, sample: { size: 25, seed: 'two' }, limits: PAGED })).items);
    expect(a.size).toBe(25);
    expect(again).toEqual(a);
    expect(other.size).toBe(25);
    expect(other).not.toEqual(a);
  });

  it('resumes a sampled crawl with the rest of the same sample', async () => {
    const options: CrawlOptions = { tags: { mode: 'all' }, sample: { size: 10, seed: 'resume' }, limits: PAGED };
    const full = (await crawl(options)).items;
    const rest = (await crawl(options, full[13]!.cursor)).items;
    expect(refs(rest)).toEqual(refs(full.slice(14)));
  });

  it('orders by name when asked for pull counts a registry does not have, and says so', async () => {
    const { items, notices } = await crawl({ tags: { mode: 'latest' }, order: 'pulls', sample: { size: 5, seed: 'x' } });
    const names = items.map((i) => i.target.repository);
    expect(names).toEqual([...names].sort());
    expect(notices[0]).toMatch(/has no pull counts; repositories are crawled in name order/);
  });

  it('--max-image-size turns targets of known larger size into skips with a reason', async () => {
    const small = await crawl({ tags: { mode: 'latest' }, maxImageSizeBytes: 100, sample: { size: 5, seed: 'x' } });
    // the sample of 5 holds odd/no-latest, which has no latest
    expect(small.items.length).toBe(4);
    for (const item of small.items) expect(item.skip).toMatch(/^image size .* is over --max-image-size 100 B$/);
    const large = await crawl({ tags: { mode: 'latest' }, maxImageSizeBytes: 1_000_000, sample: { size: 5, seed: 'x' } });
    expect(large.items.every((i) => i.skip === undefined)).toBe(true);
  });

  it('refuses a cursor of another source or made with other options', async () => {
    const { items } = await crawl({ tags: { mode: 'all' }, sample: { size: 2, seed: 'c' } });
    await expect(crawl({ tags: { mode: 'latest' }, sample: { size: 2, seed: 'c' } }, items[0]!.cursor)).rejects.toThrow(/made with other options \(tags=all .*; now tags=latest/);
    await expect(crawl({ tags: { mode: 'all' }, sample: { size: 2, seed: 'c' } }, items[0]!.cursor, 'registry:127.0.0.1:1')).rejects.toThrow(/belongs to "registry:127\.0\.0\.1:\d+", not "registry:127\.0\.0\.1:1"/);
  });

  it('needs --insecure-registry for plain HTTP to a host that is not loopback by Docker rules', async () => {
    await expect(crawl({ loopbackIsInsecure: false, sample: { size: 1, seed: 'x' } })).rejects.toThrow(/does not speak HTTPS|refusing plain HTTP|--insecure-registry/);
    const { items } = await crawl({ loopbackIsInsecure: false, insecureRegistries: [registry.host], sample: { size: 1, seed: 'x' } });
    expect(items).toHaveLength(1);
  });
});

describe('registry: behind htpasswd', () => {
  let secured: RealRegistry;
  beforeAll(async () => {
    secured = await startRegistry({ auth: { kind: 'htpasswd', users: { crawler: 's3cret' } } });
    cleanups.push(() => secured.stop());
    await populateRegistry(secured.host, ['private/one', 'private/two'], [TAGS[2]!], { creds: 'crawler:s3cret' });
  }, 60_000);

  it('lists with the Docker config credentials, and says what to do without them', async () => {
    const empty = dockerConfigDir({});
    const withCreds = dockerConfigDir({ auths: { [secured.host]: { auth: Buffer.from('crawler:s3cret').toString('base64') } } });
    cleanups.push(empty.remove, withCreds.remove);
    await expect(crawl({ env: { DOCKER_CONFIG: empty.path } }, null, `registry:${secured.host}`)).rejects.toThrow(/refused to list its repositories .*401[\s\S]*docker login/);
    const { items } = await crawl({ env: { DOCKER_CONFIG: withCreds.path } }, null, `registry:${secured.host}`);
    expect(refs(items)).toEqual([`${secured.host}/private/one:latest`, `${secured.host}/private/two:latest`]);
  });
});

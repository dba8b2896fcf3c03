/**
 * `file:PATH`: one reference per line, comments and blank lines skipped, bad lines reported with their number and
 * skipped, resumption by line, sampling in file order. Also the spec parser's errors for every source kind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCrawlCursor, parseCrawlSource, parseSample, parseTagSelection, type CrawlCursor, type CrawlItem, type CrawlOptions } from '../../src/crawl/source.js';
import { tempDir } from '../support/registry.js';

const dir = tempDir('crawl-file');
afterAll(() => dir.remove());

function file(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

async function crawl(spec: string, options: CrawlOptions = {}, resume: CrawlCursor | null = null): Promise<{ items: CrawlItem[]; notices: string[] }> {
  const notices: string[] = [];
  const items: CrawlItem[] = [];
  for await (const item of parseCrawlSource(spec, { cwd: dir.path, ...options, notice: (m) => notices.push(m) }).targets(resume)) items.push(item);
  return { items, notices };
}

const LIST = [
  '# images to crawl',
  'nginx',
  '',
  '   alpine:3.19   # pinned',
  'Not/A/Valid:Reference',
  'ghcr.io/owner/repo:1.0',
  '127.0.0.1:5000/team/app@sha256:' + 'a'.repeat(64),
  'docker://busybox',
  '\tbitnami/redis:7\r',
].join('\n');

describe('file: sources', () => {
  it('yields one normalised target per reference line; comments and blanks are skipped, bad lines reported by number', async () => {
    file('list.txt', LIST);
    const { items, notices } = await crawl('file:list.txt');
    expect(items.map((i) => i.target.reference)).toEqual([
      'docker.io/library/nginx:latest',
      'docker.io/library/alpine:3.19',
      'ghcr.io/owner/repo:1.0',
      `127.0.0.1:5000/team/app@sha256:${'a'.repeat(64)}`,
      'docker.io/bitnami/redis:7',
    ]);
    expect(items.map((i) => i.cursor.line)).toEqual([2, 4, 6, 7, 9]);
    expect(items[3]!.target).toEqual({ registry: '127.0.0.1:5000', repository: 'team/app', reference: `127.0.0.1:5000/team/app@sha256:${'a'.repeat(64)}`, digest: `sha256:${'a'.repeat(64)}` });
    expect(notices).toEqual([expect.stringMatching(/^file:list\.txt line 5: invalid image reference/), expect.stringMatching(/^file:list\.txt line 8: invalid image reference "docker:\/\/busybox"/)]);
  });

  it('resumes after the cursor line with exactly the rest', async () => {
    const path = file('many.txt', Array.from({ length: 100 }, (_, i) => (i % 10 === 3 ? '# comment' : `team/app-${i}:v${i}`)).join('\n'));
    const full = (await crawl(`file:${path}`)).items;
    expect(full).toHaveLength(90);
    for (const k of [1, 45, 89, 90]) {
      const cursor = parseCrawlCursor(JSON.parse(JSON.stringify(full[k - 1]!.cursor)));
      const rest = (await crawl(`file:${path}`, {}, cursor)).items;
      expect(rest.map((i) => i.target.reference)).toEqual(full.slice(k).map((i) => i.target.reference));
    }
  });

  it('samples N references by seed, in file order, the same for the same seed; resumes within the sample', async () => {
    file('sample.txt', Array.from({ length: 500 }, (_, i) => `team/app-${i}`).join('\n'));
    const pick = async (seed: string) => (await crawl('file:sample.txt', { sample: { size: 20, seed } })).items;
    const a = await pick('s1');
    const b = await pick('s1');
    const c = await pick('s2');
    expect(a).toHaveLength(20);
    expect(b.map((i) => i.target.reference)).toEqual(a.map((i) => i.target.reference));
    expect(c.map((i) => i.target.reference)).not.toEqual(a.map((i) => i.target.reference));
    const lines = a.map((i) => i.cursor.line!);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    const rest = (await crawl('file:sample.txt', { sample: { size: 20, seed: 's1' } }, a[7]!.cursor)).items;
    expect(rest.map((i) => i.target.reference)).toEqual(a.slice(8).map((i) => i.target.reference));
  });

  it('reports a line too long to be a reference without holding it, and stops at maxFileLines', async () => {
    file('long.txt', `nginx\n${'x'.repeat(100_000)}\nalpine\n`);
    const long = await crawl('file:long.txt');
    expect(long.items.map((i) => i.target.reference)).toEqual(['docker.io/library/nginx:latest', 'docker.io/library/alpine:latest']);
    expect(long.notices).toEqual([expect.stringMatching(/line 2: the line is longer than 8192 characters/)]);
    const cut = await crawl('file:long.txt', { limits: { maxFileLines: 1 } });
    expect(cut.items).toHaveLength(1);
    expect(cut.notices).toEqual([expect.stringMatching(/more than 1 lines; the crawl reads the first 1/)]);
  });

  it('says what does not apply to a file, and what is wrong with a missing one', async () => {
    file('one.txt', 'nginx\n');
    const { notices } = await crawl('file:one.txt', { tags: { mode: 'all' }, order: 'pulls' });
    expect(notices).toEqual([expect.stringMatching(/--tags does not apply to a file/), expect.stringMatching(/a file has no pull counts/)]);
    await expect(crawl('file:missing.txt')).rejects.toThrow(/file:missing\.txt: cannot read ".*missing\.txt": .*ENOENT/);
  });
});

describe('source specs and options', () => {
  it.each([
    ['nginx', /unknown crawl source "nginx"[\s\S]*registry:HOST\[:PORT\], dockerhub:NAMESPACE, dockerhub:search:TERM or file:PATH/],
    ['oci:foo', /unknown crawl source/],
    ['registry:', /does not name a registry host/],
    ['registry:not a host', /does not name a registry host/],
    ['registry:docker.io', /Docker Hub's registry does not list its repositories[\s\S]*dockerhub:NAMESPACE/],
    ['dockerhub:', /does not name a Docker Hub namespace/],
    ['dockerhub:Upper', /does not name a Docker Hub namespace/],
    ['dockerhub:a/b', /does not name a Docker Hub namespace/],
    ['dockerhub:search:', /does not give a search term/],
    ['dockerhub:search:two words', /does not give a search term/],
    ['file:', /names no file/],
  ])('refuses %j with a clear error', (spec, message) => {
    expect(() => parseCrawlSource(spec)).toThrow(message);
  });

  it('parses --tags, --sample and stored cursors, refusing what is not one', () => {
    expect(parseTagSelection('latest')).toEqual({ mode: 'latest' });
    expect(parseTagSelection('all')).toEqual({ mode: 'all' });
    expect(parseTagSelection('newest:5')).toEqual({ mode: 'newest', count: 5 });
    for (const bad of ['newest:0', 'newest:', 'newest:-1', 'oldest', 'newest:99999999']) expect(() => parseTagSelection(bad)).toThrow(/invalid --tags/);
    expect(parseSample('10', 'seed')).toEqual({ size: 10, seed: 'seed' });
    expect(() => parseSample('0', 's')).toThrow(/invalid --sample/);
    expect(() => parseSample('1e3', 's')).toThrow(/invalid --sample/);
    expect(parseCrawlCursor({ v: 1, source: 'file:x', plan: 'order=name', line: 3 })).toEqual({ v: 1, source: 'file:x', plan: 'order=name', line: 3 });
    for (const bad of [null, [], 'x', { v: 2, source: 'a', plan: 'b' }, { v: 1, source: 'a' }, { v: 1, source: 'a', plan: 'b', line: -1 }, { v: 1, source: 'a', plan: 'b', tag: 3 }]) {
      expect(() => parseCrawlCursor(bad)).toThrow(/the saved crawl position is not valid/);
    }
  });
});

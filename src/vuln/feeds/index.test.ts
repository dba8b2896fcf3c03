import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord } from '../model.js';
import { detectFeed, FEED_IMPORTERS, readFeedsFrom } from './index.js';

const vulnDir = join(corpusDir, 'vuln');
const haveCorpus = existsSync(vulnDir);

async function collect(path: string, options?: Parameters<typeof readFeedsFrom>[2]): Promise<{ records: AdvisoryRecord[]; notices: string[] }> {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  for await (const r of readFeedsFrom(path, (m) => notices.push(m), options)) records.push(r);
  return { records, notices };
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-feeds-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!haveCorpus)('feed detection (corpus files)', () => {
  it.each([
    ['osv-go/govulndb-osv.jsonl', 'osv'],
    ['osv-pypi/pypa-osv.jsonl', 'osv'],
    ['alpine-secdb/v3.11/main.yaml', 'alpine-secdb'],
    ['alpine-secdb/v3.3/community.yaml', 'alpine-secdb'],
    ['debian-security-tracker/DSA-list', 'debian-dsa-list'],
    ['debian-security-tracker/DLA-list', 'debian-dsa-list'],
    ['debian-security-tracker/DTSA-list', 'debian-dsa-list'],
    ['nodejs-security-wg/npm-advisories.json', 'nodejs-security-wg'],
    ['nodejs-security-wg/node-core-advisories.json', 'nodejs-security-wg'],
    ['rubysec/gems/actionpack/CVE-2008-7248.yml', 'rubysec'],
    ['trivy-db-testdata/ghsa/testdata/happy/ghsa/advisories/github-reviewed/2019/12/GHSA-wjx8-cgrm-hh8p/GHSA-wjx8-cgrm-hh8p.json', 'ghsa'],
    ['trivy-db-testdata/govulndb/testdata/happy/govulndb/data/osv/GO-2024-2683.json', 'osv'],
    ['trivy-db-testdata/osv/testdata/happy/vuln-list/osv/python/PYSEC-2023-120.json', 'osv'],
    ['trivy-db-testdata/wolfi/testdata/happy/vuln-list/wolfi/binutils.json', 'alpine-secdb'],
    ['trivy-db-testdata/debian/testdata/happy/vuln-list-debian/tracker/DSA/DSA-3714-1.json', 'debian-vuln-list'],
    ['debian-security-tracker/CPE-aliases', null],
    ['debian-security-tracker/embedded-code-copies', null],
    ['rubysec/LICENSE.txt', null],
    ['trivy-db-testdata/amazon/testdata/happy/vuln-list/amazon/2/ALAS2-2021-1699.json', null],
    ['trivy-db-testdata/redhat/testdata/happy1/vuln-list-redhat/api/2019/CVE-2019-0160.json', null],
    ['trivy-db-testdata/debian/testdata/fixtures/debian.yaml', null],
  ])('%s → %s', (file, importer) => {
    const path = join(vulnDir, file);
    expect(detectFeed(path, readFileSync(path).subarray(0, 4096))?.name ?? null).toBe(importer);
  });

  it('every importer has a distinct name', () => {
    expect(new Set(FEED_IMPORTERS.map((i) => i.name)).size).toBe(FEED_IMPORTERS.length);
  });
});

describe.skipIf(!haveCorpus)('the whole vulnerability corpus', () => {
  it('is read in well under 30 s, every feed contributing; formats Detonate does not read give notices', async () => {
    const started = performance.now();
    const bySource = new Map<string, number>();
    const notices: string[] = [];
    let total = 0;
    for await (const r of readFeedsFrom(vulnDir, (m) => notices.push(m))) {
      total++;
      bySource.set(r.source, (bySource.get(r.source) ?? 0) + 1);
      expect(r.affected.every((a) => a.ecosystem !== '' && a.name !== '')).toBe(true);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeLessThan(15);
    expect(total).toBeGreaterThan(50_000);
    for (const source of ['osv', 'ghsa', 'alpine-secdb', 'wolfi-secdb', 'chainguard-secdb', 'debian-dsa', 'debian-dla', 'debian-dtsa', 'debian-cve-list', 'nodejs-security-wg', 'rubysec']) {
      expect(bySource.get(source) ?? 0, source).toBeGreaterThan(0);
    }
    // Red Hat, Amazon, Oracle, Alma, Rocky, Ubuntu data and trivy's golden files are not feeds Detonate reads
    expect(notices.filter((n) => n.endsWith('not a feed format Detonate recognises; skipped')).length).toBeGreaterThan(50);
    expect(notices.some((n) => n.startsWith('trivy-db-testdata/redhat-oval/'))).toBe(true);
    // the corpus' deliberately broken files
    expect(notices).toContain('trivy-db-testdata/node/testdata/sad/nodejs-security-wg/vuln/invalidvuln.json: not valid JSON (Unexpected token \'o\', "foobarbazinvalid" is not valid JSON); file skipped');
  });
});

describe('walking a directory', () => {
  it('does not follow a symbolic link loop, skips hidden entries, stops at the depth limit and says so', async () => {
    const root = join(tmp, 'walk');
    await fs.mkdir(join(root, 'a', 'b', 'c'), { recursive: true });
    await fs.mkdir(join(root, '.git'), { recursive: true });
    await fs.writeFile(join(root, '.git', 'list'), '[01 Jan 2020] DSA-1-1 hidden - x\n');
    await fs.symlink('..', join(root, 'a', 'loop'));
    const dsa = '[01 Jan 2020] DSA-1000-1 foo - security update\n\t{CVE-2020-1000}\n\t[buster] - foo 1.0-1+deb10u1\n';
    await fs.writeFile(join(root, 'a', 'DSA-list'), dsa);
    await fs.writeFile(join(root, 'a', 'b', 'c', 'DSA-list'), dsa.replace('DSA-1000-1', 'DSA-1001-1'));
    await fs.symlink(join(root, 'a', 'DSA-list'), join(root, 'a', 'b', 'linked-list'));
    await fs.writeFile(join(root, 'a', 'README'), 'hello');

    const all = await collect(root);
    expect(all.records.map((r) => `${r.sourceId} ${r.id}`)).toEqual(['DSA-1000-1 CVE-2020-1000', 'DSA-1001-1 CVE-2020-1000', 'DSA-1000-1 CVE-2020-1000']);
    expect(all.notices).toEqual(['a/README: not a feed format Detonate recognises; skipped', 'a/loop: symbolic link to a directory, not followed']);

    const shallow = await collect(root, { limits: { maxWalkDepth: 2 } });
    expect(shallow.records.map((r) => r.sourceId)).toEqual(['DSA-1000-1', 'DSA-1000-1']);
    expect(shallow.notices).toContain('a/b/c: deeper than 2 levels; not read');
  });

  it('counts unrecognised files past the notice limit, and stops at the file limit', async () => {
    const root = join(tmp, 'many');
    await fs.mkdir(root, { recursive: true });
    for (let i = 0; i < 8; i++) await fs.writeFile(join(root, `f${i}.txt`), 'nothing');
    const { notices } = await collect(root, { limits: { maxUnrecognisedNotices: 3 } });
    expect(notices).toEqual(['f0.txt: not a feed format Detonate recognises; skipped', 'f1.txt: not a feed format Detonate recognises; skipped', 'f2.txt: not a feed format Detonate recognises; skipped', '5 more files not recognised as feeds']);
    const limited = await collect(root, { limits: { maxWalkFiles: 2, maxUnrecognisedNotices: 0 } });
    expect(limited.notices).toEqual([`more than 2 files; the rest of ${root} is not read`, '2 more files not recognised as feeds']);
  });

  it('reads a single file, and reports a path that does not exist', async () => {
    const file = join(tmp, 'one.jsonl');
    await fs.writeFile(file, `${JSON.stringify({ id: 'GO-2099-1', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'Go', name: 'm' }, versions: ['v1.0.0'] }] })}\n`);
    expect((await collect(file)).records.map((r) => r.id)).toEqual(['GO-2099-1']);
    const missing = await collect(join(tmp, 'nope'));
    expect(missing.records).toEqual([]);
    expect(missing.notices).toEqual([expect.stringMatching(/nope: cannot be read \(ENOENT/)]);
  });
});

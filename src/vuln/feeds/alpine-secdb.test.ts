import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord } from '../model.js';
import { apkVersions, inRange } from '../versions/index.js';
import { alpineSecdbImporter, secfixIds } from './alpine-secdb.js';

const secdbDir = join(corpusDir, 'vuln', 'alpine-secdb');
const haveCorpus = existsSync(secdbDir);

async function collect(path: string): Promise<{ records: AdvisoryRecord[]; notices: string[] }> {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  for await (const r of alpineSecdbImporter.read(path, (m) => notices.push(m))) records.push(r);
  return { records, notices };
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-secdb-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('secfixes lines', () => {
  it.each([
    ['CVE-2019-1551', ['CVE-2019-1551']],
    ['CVE-2017-8904 XSA-214', ['CVE-2017-8904', 'XSA-214']],
    ['CVE-2017-2616 (+ regression fix)', ['CVE-2017-2616']],
    ['CVE-2024-22195 GHSA-h5c8-rqwp-cp95', ['CVE-2024-22195', 'GHSA-h5c8-rqwp-cp95']],
    ['CVE_2019-2426', ['CVE-2019-2426']],
    ['CVE 2018-16859', ['CVE-2018-16859']],
    ['not an id', []],
  ])('%s', (line, ids) => {
    expect(secfixIds(line)).toEqual(ids);
  });
});

describe.skipIf(!haveCorpus)('Alpine secdb (corpus)', () => {
  it('v3.11 main: openssl CVE-2019-1551 fixed in 1.1.1d-r3 (1.1.1d-r0 vulnerable, 1.1.1d-r3 not)', async () => {
    const { records } = await collect(join(secdbDir, 'v3.11', 'main.yaml'));
    const r = records.find((x) => x.id === 'CVE-2019-1551');
    expect(r).toEqual({
      id: 'CVE-2019-1551',
      aliases: [],
      source: 'alpine-secdb',
      sourceId: 'CVE-2019-1551',
      affected: [{ ecosystem: 'alpine:3.11', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '1.1.1d-r3' }] }],
    });
    const range = r!.affected[0]!.ranges[0]!;
    expect(inRange(apkVersions, '1.1.1d-r0', range)).toBe(true);
    expect(inRange(apkVersions, '1.1.1d-r2', range)).toBe(true);
    expect(inRange(apkVersions, '1.1.1d-r3', range)).toBe(false);
  });

  it('every (package, id) of every release becomes an affected entry; only-under-"0" means not affected', async () => {
    for (const release of await fs.readdir(secdbDir)) {
      for (const file of ['main.yaml', 'community.yaml']) {
        const path = join(secdbDir, release, file);
        // read independently, with the yaml package's default schema
        const doc = parse(readFileSync(path, 'utf8')) as { packages?: { pkg: { name: string; secfixes?: Record<string, string[] | null> } }[] | null };
        const expected = new Map<string, string>();
        for (const { pkg } of doc.packages ?? []) {
          for (const [version, lines] of Object.entries(pkg.secfixes ?? {})) {
            for (const line of lines ?? []) {
              const id = secfixIds(String(line))[0];
              if (!id) continue;
              const key = `${pkg.name} ${id}`;
              if (version !== '0' || !expected.has(key)) expected.set(key, version === '0' ? 'not-affected' : 'affected');
            }
          }
        }
        const { records } = await collect(path);
        const got = new Map(records.flatMap((r) => r.affected.map((a) => [`${a.name} ${r.id}`, a.status] as const)));
        expect(got, `${release}/${file}`).toEqual(expected);
        expect(records.every((r) => r.affected.every((a) => a.ecosystem === `alpine:${release.slice(1)}`))).toBe(true);
      }
    }
  });

  it('v3.8 main: Berkeley DB issues listed under "0" are not-affected', async () => {
    const { records } = await collect(join(secdbDir, 'v3.8', 'main.yaml'));
    const r = records.find((x) => x.id === 'CVE-2016-0682');
    expect(r?.affected).toEqual([{ ecosystem: 'alpine:3.8', name: 'db', status: 'not-affected', ranges: [] }]);
  });

  it('keeps Xen advisory numbers as aliases', async () => {
    const { records } = await collect(join(secdbDir, 'v3.7', 'main.yaml'));
    expect(records.find((x) => x.id === 'CVE-2017-8904')?.aliases).toEqual(['XSA-214']);
  });

  it('reads the JSON secdb copies of vuln-list (Alpine, Wolfi, Chainguard)', async () => {
    const base = join(corpusDir, 'vuln', 'trivy-db-testdata');
    const alpine = await collect(join(base, 'alpine', 'testdata', 'happy', 'vuln-list', 'alpine', 'ansible.json'));
    expect(alpine.records.map((r) => [r.id, r.aliases, r.affected[0]?.ecosystem, r.affected[0]?.ranges])).toEqual([
      ['CVE-2019-14904', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['CVE-2019-14905', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['CVE-2024-22195', ['GHSA-h5c8-rqwp-cp95'], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['CVE-2017-2616', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['GHSA-f7r5-w49x-gxm3', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['GHSA-h6cc-rc6q-23j4', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.3-r0' }]],
      ['CVE-2020-1737', [], 'alpine:3.12', [{ introduced: '0', fixed: '2.9.6-r0' }]],
    ]);
    const wolfi = await collect(join(base, 'wolfi', 'testdata', 'happy', 'vuln-list', 'wolfi', 'binutils.json'));
    expect(wolfi.records.map((r) => `${r.source} ${r.affected[0]?.ecosystem} ${r.id}`)).toEqual(['wolfi-secdb wolfi CVE-2022-38126', 'wolfi-secdb wolfi CVE-2022-38533']);
    const cg = await collect(join(base, 'chainguard', 'testdata', 'happy', 'vuln-list', 'chainguard', 'binutils.json'));
    expect(cg.records.map((r) => r.affected[0]?.ecosystem)).toEqual(['chainguard', 'chainguard']);
    const sad = await collect(join(base, 'alpine', 'testdata', 'sad', 'vuln-list', 'alpine', 'ansible.json'));
    expect(sad.records).toEqual([]);
    expect(sad.notices).toEqual([expect.stringMatching(/^not valid JSON .*; file skipped$/)]);
  });
});

describe('hostile secdb input', () => {
  it('an alias bomb is refused with a notice', async () => {
    const path = join(tmp, 'bomb.yaml');
    const layers = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) layers.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    await fs.writeFile(path, `distroversion: v3.19\n${layers.join('\n')}\npackages:\n  - pkg:\n      name: x\n      secfixes:\n        1.0-r0: *i\n`);
    const { records, notices } = await collect(path);
    expect(records).toEqual([]);
    expect(notices).toEqual([expect.stringMatching(/^YAML cannot be expanded \(Excessive alias count/)]);
  });

  it('malformed packages and lines are skipped with notices, the rest is read', async () => {
    const path = join(tmp, 'odd.yaml');
    await fs.writeFile(
      path,
      [
        'distroversion: v3.19',
        'packages:',
        '  - nonsense: 1',
        '  - pkg:',
        '      name: good',
        '      secfixes:',
        '        1.2-r0:',
        '          - CVE-2024-0001',
        '          - "(just a comment)"',
        '        "not a version":',
        '          - CVE-2024-0002',
        '  - pkg:',
        '      name: weird',
        '      secfixes: [1, 2]',
      ].join('\n'),
    );
    const { records, notices } = await collect(path);
    expect(records.map((r) => `${r.id} ${r.affected[0]?.name} ${r.affected[0]?.ranges[0]?.fixed}`)).toEqual(['CVE-2024-0001 good 1.2-r0']);
    expect(notices).toEqual([
      'packages[0] has no pkg.name; skipped',
      'good 1.2-r0: "(just a comment)" names no advisory; skipped',
      'good: "not a version" is not a version; its fixes are skipped',
      'weird: secfixes is not a mapping; skipped',
    ]);
  });

  it('a secdb without a release is refused', async () => {
    const path = join(tmp, 'norelease.json');
    await fs.writeFile(path, JSON.stringify({ packages: [{ pkg: { name: 'x', secfixes: { '1-r0': ['CVE-2024-1'] } } }] }));
    expect((await collect(path)).notices).toEqual(['no distroversion: cannot tell which Alpine release it describes; file skipped']);
  });
});

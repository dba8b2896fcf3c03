import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord, AffectedPackage } from '../model.js';
import { inRange, satisfiesNpmRange, semverVersions } from '../versions/index.js';
import { detectFeed } from './index.js';
import { nodejsSecurityWgImporter } from './nodejs-security-wg.js';
import type { FeedAffectedPackage } from './ranges.js';

const wgDir = join(corpusDir, 'vuln', 'nodejs-security-wg');
const haveCorpus = existsSync(wgDir);

async function collect(path: string): Promise<{ records: AdvisoryRecord[]; notices: string[] }> {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  for await (const r of nodejsSecurityWgImporter.read(path, (m) => notices.push(m))) records.push(r);
  return { records, notices };
}

function matches(a: AffectedPackage, version: string): boolean {
  return (a.versions ?? []).some((v) => semverVersions.compare(v, version) === 0) || a.ranges.some((r) => inRange(semverVersions, version, r));
}

/** Release versions around every version a range text mentions: the boundaries and their neighbours. */
function probeVersions(...ranges: (string | undefined)[]): string[] {
  const out = new Set(['0.0.0', '0.0.1', '0.1.0', '1.0.0', '99.0.0']);
  for (const range of ranges) {
    for (const m of (range ?? '').matchAll(/(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?/g)) {
      const [M, m2, p] = [Number(m[1]), Number(m[2] === 'x' || m[2] === undefined ? 0 : m[2]), Number(m[3] === 'x' || m[3] === undefined ? 0 : m[3])];
      for (const [a, b, c] of [[M, m2, p], [M, m2, p + 1], [M, m2, Math.max(0, p - 1)], [M, m2 + 1, 0], [M + 1, 0, 0], [M, Math.max(0, m2 - 1), 99]]) out.add(`${a}.${b}.${c}`);
    }
  }
  return [...out];
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-nswg-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!haveCorpus)('nodejs security WG (corpus)', () => {
  it('npm-advisories.json: 467 distinct advisories (the copy also holds them in an id → advisory mapping), no notices', async () => {
    const raw = JSON.parse(readFileSync(join(wgDir, 'npm-advisories.json'), 'utf8')) as { id?: number }[];
    expect(raw).toHaveLength(468);
    const ids = new Set(raw.flatMap((a) => (a.id !== undefined ? [`NSWG-ECO-${a.id}`] : [])));
    expect(ids.size).toBe(467);
    const { records, notices } = await collect(join(wgDir, 'npm-advisories.json'));
    expect(notices).toEqual([]);
    expect(new Set(records.map((r) => r.sourceId))).toEqual(ids);
    expect(records.find((r) => r.sourceId === 'NSWG-ECO-1')).toMatchObject({
      id: 'CVE-2014-7205',
      aliases: ['NSWG-ECO-1'],
      source: 'nodejs-security-wg',
      summary: 'Arbitrary JavaScript Execution',
      severity: { cvssV3: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N', score: 6.5 },
      affected: [
        {
          ecosystem: 'npm',
          name: 'bassmaster',
          status: 'affected',
          // `<=1.5.1`: through 1.5.1; the first patched version is shown as the fix
          ranges: [{ introduced: '0', lastAffected: '1.5.1', fixed: '1.5.2' }],
          nativeRange: { syntax: 'npm', vulnerable: '<=1.5.1', patched: '>=1.5.2' },
        },
      ],
    });
  });

  it('every npm advisory: the ranges admit exactly the release versions npm calls vulnerable and not patched', async () => {
    const { records } = await collect(join(wgDir, 'npm-advisories.json'));
    let probes = 0;
    for (const r of records) {
      const a = r.affected[0] as FeedAffectedPackage;
      const native = a.nativeRange;
      if (native?.syntax !== 'npm') throw new Error(`${r.sourceId} lost its range`);
      for (const v of probeVersions(native.vulnerable, native.patched)) {
        const expected = satisfiesNpmRange(v, native.vulnerable) && !(native.patched !== undefined && satisfiesNpmRange(v, native.patched));
        expect(matches(a, v), `${r.sourceId} ${v} (${native.vulnerable} / ${native.patched})`).toBe(expected);
        probes++;
      }
    }
    expect(probes).toBeGreaterThan(5000);
  });

  it('node-core-advisories.json: the node runtime advisories, with vulnerable minus patched lines', async () => {
    const { records, notices } = await collect(join(wgDir, 'node-core-advisories.json'));
    expect(notices).toEqual([]);
    // 171 upstream files, two of which are identical (CVE-2024-27980 twice)
    expect(new Set(records.map((r) => r.sourceId)).size).toBe(170);
    expect(records.every((r) => r.affected.every((a) => a.ecosystem === 'nodejs' && a.name === 'node'))).toBe(true);
    const naptr = records.find((r) => r.id === 'CVE-2017-1000381');
    expect(naptr?.severity).toEqual({ rating: 'high' });
    expect(naptr?.affected[0]?.ranges).toEqual([
      { introduced: '4.0.0', fixed: '4.8.4' },
      { introduced: '5.0.0', fixed: '6.11.1' }, // 5.x never got a fix: its users need 6.11.1
      { introduced: '7.0.0', fixed: '7.10.1' },
      { introduced: '8.0.0', fixed: '8.1.4' },
    ]);
    for (const r of records) {
      const a = r.affected[0] as FeedAffectedPackage;
      if (a.nativeRange?.syntax !== 'npm') continue;
      const { vulnerable, patched } = a.nativeRange;
      for (const v of probeVersions(vulnerable, patched)) {
        expect(matches(a, v), `${r.sourceId} ${v}`).toBe(satisfiesNpmRange(v, vulnerable) && !(patched !== undefined && satisfiesNpmRange(v, patched)));
      }
    }
  });

  it('reads the one-advisory-per-file layout (trivy-db test data)', async () => {
    const base = join(corpusDir, 'vuln', 'trivy-db-testdata', 'node', 'testdata');
    const core = join(base, 'happy', 'core', 'nodejs-security-wg', 'vuln', '18.json');
    expect(detectFeed(core, readFileSync(core))).toBe(nodejsSecurityWgImporter);
    const { records } = await collect(core);
    expect(records).toMatchObject([
      { id: 'CVE-2016-5325', sourceId: 'NSWG-CORE-18', severity: { cvssV3: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N', score: 4.8 } },
    ]);
    const noCvss = await collect(join(base, 'happy', 'npm_nullcvssscore', 'nodejs-security-wg', 'vuln', 'npm_nullcvssscore.json'));
    expect(noCvss.records).toEqual([
      {
        id: 'NSWG-ECO-334',
        aliases: [],
        source: 'nodejs-security-wg',
        sourceId: 'NSWG-ECO-334',
        summary: 'Downloads resources over HTTP',
        published: '2017-06-05',
        modified: '2017-06-05',
        affected: [{ ecosystem: 'npm', name: 'hubl-server', status: 'affected', ranges: [{ introduced: '0.0.0', lastAffected: '99.999.99999' }], nativeRange: { syntax: 'npm', vulnerable: '<=99.999.99999', patched: '<0.0.0' } }],
      },
    ]);
    const sad = await collect(join(base, 'sad', 'nodejs-security-wg', 'vuln', 'invalidvuln.json'));
    expect(sad.notices).toEqual([expect.stringMatching(/^not valid JSON .*; file skipped$/)]);
  });
});

describe('malformed security WG input', () => {
  it('skips advisories it cannot read, with a notice each', async () => {
    const path = join(tmp, 'npm-advisories.json');
    await fs.writeFile(
      path,
      JSON.stringify([
        { id: 1, module_name: 'a', vulnerable_versions: '>=1.0.0 <1.2.0', patched_versions: '>=1.2.0', cves: ['CVE-2020-1234'] },
        { id: 2, module_name: 'b', vulnerable_versions: 'not a range!', patched_versions: '>=1.0.0', cves: [] },
        { id: 3, module_name: 'c', vulnerable_versions: '=1.0.3', cves: [] },
        'junk',
        { unrelated: true },
      ]),
    );
    const { records, notices } = await collect(path);
    expect(records.map((r) => [r.id, r.affected[0]?.ranges, r.affected[0]?.versions])).toEqual([
      ['CVE-2020-1234', [{ introduced: '1.0.0', fixed: '1.2.0' }], undefined],
      ['NSWG-ECO-3', [], ['1.0.3']],
    ]);
    expect(notices).toEqual([
      '[3]: not an advisory object; skipped',
      '[4]: not a security-wg advisory; skipped',
      'NSWG-ECO-2: vulnerable_versions "not a range!" is not an npm range; skipped',
    ]);
  });
});

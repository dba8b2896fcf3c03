import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord, AffectedPackage } from '../model.js';
import { gemVersions, inRange, satisfiesGemRequirement } from '../versions/index.js';
import { readFeedsFrom } from './index.js';
import type { FeedAffectedPackage } from './ranges.js';
import { rubysecImporter } from './rubysec.js';

const gemsDir = join(corpusDir, 'vuln', 'rubysec', 'gems');
const haveCorpus = existsSync(gemsDir);

function matches(a: AffectedPackage, version: string): boolean {
  return (a.versions ?? []).some((v) => gemVersions.compare(v, version) === 0) || a.ranges.some((r) => inRange(gemVersions, version, r));
}

/** Release versions around every version a requirement mentions. */
function probeVersions(requirements: readonly string[]): string[] {
  const out = new Set(['0.0.1', '0.1', '1.0', '100.0']);
  for (const req of requirements) {
    for (const m of req.matchAll(/\d+(?:\.\d+)*/g)) {
      const parts = m[0].split('.').map(Number);
      out.add(parts.join('.'));
      const last = parts.length - 1;
      out.add([...parts.slice(0, last), (parts[last] ?? 0) + 1].join('.'));
      if ((parts[last] ?? 0) > 0) out.add([...parts.slice(0, last), (parts[last] ?? 0) - 1].join('.'));
      out.add([...parts, 1].join('.'));
      if (parts.length > 1) out.add([...parts.slice(0, last - 1), (parts[last - 1] ?? 0) + 1].join('.'));
    }
  }
  return [...out];
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-rubysec-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!haveCorpus)('ruby-advisory-db (corpus)', () => {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  let files = 0;
  beforeAll(async () => {
    for (const gem of await fs.readdir(gemsDir)) files += (await fs.readdir(join(gemsDir, gem))).filter((f) => f.endsWith('.yml')).length;
    for await (const r of readFeedsFrom(gemsDir, (m) => notices.push(m))) records.push(r);
  });

  it('imports one record per advisory file (1 234), without notices', () => {
    expect(files).toBe(1234);
    expect(notices).toEqual([]);
    expect(records).toHaveLength(files);
    expect(records.every((r) => r.source === 'rubysec' && r.affected[0]?.ecosystem === 'rubygems')).toBe(true);
  });

  it('actionpack CVE-2008-7248: `~> 2.1.3` is `>= 2.1.3, < 2.2`; unaffected below 2.1.0', () => {
    const r = records.find((x) => x.id === 'CVE-2008-7248' && x.affected[0]?.name === 'actionpack');
    expect(r).toMatchObject({
      aliases: ['GHSA-8fqx-7pv4-3jwm'],
      sourceId: 'CVE-2008-7248',
      summary: 'Improper Input Validation in rails',
      published: '2017-10-24',
      severity: { rating: 'medium' }, // cvss_v2 6.8 only
      affected: [
        {
          name: 'actionpack',
          ranges: [
            { introduced: '2.1.0', fixed: '2.1.3' },
            { introduced: '2.2', fixed: '2.2.2' },
          ],
          nativeRange: { syntax: 'rubygems', patched: ['~> 2.1.3', '>= 2.2.2'], unaffected: ['< 2.1.0'] },
        },
      ],
    });
  });

  it('every advisory: the ranges admit exactly the release versions bundler-audit calls vulnerable', () => {
    let probes = 0;
    for (const r of records) {
      const a = r.affected[0] as FeedAffectedPackage;
      if (a.nativeRange?.syntax !== 'rubygems') throw new Error(`${r.sourceId} lost its requirements`);
      const { patched, unaffected } = a.nativeRange;
      for (const v of probeVersions([...patched, ...unaffected])) {
        const expected = !patched.some((p) => satisfiesGemRequirement(v, p)) && !unaffected.some((u) => satisfiesGemRequirement(v, u));
        expect(matches(a, v), `${a.name} ${r.sourceId} ${v} (patched ${patched.join(' | ')}; unaffected ${unaffected.join(' | ')})`).toBe(expected);
        probes++;
      }
    }
    expect(probes).toBeGreaterThan(10_000);
  });

  it('prefers the CVSS v3 score, and names GHSA and OSVDB ids as aliases', () => {
    const withV3 = records.filter((r) => r.severity?.score !== undefined);
    expect(withV3.length).toBeGreaterThan(800);
    const osvdbOnly = records.find((r) => r.id.startsWith('OSVDB-'));
    expect(osvdbOnly?.sourceId).toMatch(/^OSVDB-\d+$/);
  });
});

describe('malformed rubysec input', () => {
  it('a malformed requirement or a missing gem name skips the advisory with a notice', async () => {
    const bad = join(tmp, 'CVE-2099-0001.yml');
    await fs.writeFile(bad, 'gem: foo\ncve: 2099-0001\npatched_versions:\n  - ">= 1.2.3"\n  - "=> banana"\n');
    const noGem = join(tmp, 'CVE-2099-0002.yml');
    await fs.writeFile(noGem, 'cve: 2099-0002\npatched_versions: [">= 1"]\n');
    const notices: string[] = [];
    const records: AdvisoryRecord[] = [];
    for (const path of [bad, noGem]) for await (const r of rubysecImporter.read(path, (m) => notices.push(m))) records.push(r);
    expect(records).toEqual([]);
    expect(notices).toEqual(['foo: malformed requirement "=> banana"; skipped', 'advisory without a gem name; skipped']);
  });

  it('an exclusive lower bound (`unaffected_versions: ["<= 1.0"]`) leaves 1.0 itself unaffected', async () => {
    const path = join(tmp, 'OSVDB-1.yml');
    await fs.writeFile(path, 'gem: bar\nosvdb: 1\nunaffected_versions: ["<= 1.0"]\npatched_versions: [">= 1.5"]\n');
    const records: AdvisoryRecord[] = [];
    for await (const r of rubysecImporter.read(path, () => {})) records.push(r);
    const a = records[0]!.affected[0]!;
    expect(records[0]?.id).toBe('OSVDB-1');
    expect(matches(a, '1.0')).toBe(false);
    expect(matches(a, '1.0.1')).toBe(true);
    expect(matches(a, '1.4.9')).toBe(true);
    expect(matches(a, '1.5')).toBe(false);
  });
});

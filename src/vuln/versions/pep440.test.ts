import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import type { VersionRange } from '../model.js';
import { inRange } from './index.js';
import { comparePep440, normalizePep440, pep440Versions } from './pep440.js';
import { GARBAGE_VERSIONS, slowestHugeComparisonMs, orderViolations, outcomeCounts } from '../../../test/support/version-checks.js';

interface OsvRecord {
  id: string;
  affected?: { versions?: string[]; ranges?: { type: string; events: Record<string, string>[] }[] }[];
}

const records = readFileSync(join(corpusDir, 'vuln', 'osv-pypi', 'pypa-osv.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as OsvRecord);

/** OSV events in order → introduced/fixed pairs (each `introduced` closed by the next `fixed` or `last_affected`). */
function eventRanges(events: Record<string, string>[]): VersionRange[] {
  const ranges: VersionRange[] = [];
  let open: VersionRange | null = null;
  for (const e of events) {
    if (e.introduced !== undefined) {
      if (open) ranges.push(open);
      open = { introduced: e.introduced };
    } else if (e.fixed !== undefined || e.last_affected !== undefined) {
      const range: VersionRange = open ?? {};
      if (e.fixed !== undefined) range.fixed = e.fixed;
      if (e.last_affected !== undefined) range.lastAffected = e.last_affected;
      ranges.push(range);
      open = null;
    }
  }
  if (open) ranges.push(open);
  return ranges;
}

/**
 * Records whose `versions` list names a release outside the record's own ECOSYSTEM ranges (checked by hand: the
 * feed's list and ranges disagree, usually because the list was generated before the ranges were edited).
 */
const LIST_OUTSIDE_RANGES: Record<string, string> = {
  'PYSEC-2023-61': 'django: lists 3.2a1/b1/rc1 and 4.2a1/b1/rc1, pre-releases below the ranges\' introduced 3.2 and 4.2',
  'PYSEC-2023-177': 'gevent: lists 23.9.0 and 23.9.0.post1 although the range says fixed 23.9.0',
};

/** Legacy (non-PEP 440) strings that PyPI still lists, e.g. `0.6m5`, `2013-06-01T10:32:51+0200`: ordered but unrangeable. */
const isPep440 = (v: string): boolean => pep440Versions.valid(v);

/** Asks Python's `packaging` for validity, normal form and comparison results in one process. */
function packagingOracle(versions: string[], pairs: [string, string][]): { valid: boolean[]; normal: (string | null)[]; order: number[] } {
  const script = `
import json, sys
from packaging.version import Version, InvalidVersion
data = json.load(sys.stdin)
def parse(v):
    try:
        return Version(v)
    except InvalidVersion:
        return None
parsed = [parse(v) for v in data["versions"]]
out = {"valid": [p is not None for p in parsed], "normal": [str(p) if p is not None else None for p in parsed], "order": []}
for a, b in data["pairs"]:
    x, y = Version(a), Version(b)
    out["order"].append(-1 if x < y else 1 if x > y else 0)
json.dump(out, sys.stdout)
`;
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify({ versions, pairs }), encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out) as { valid: boolean[]; normal: (string | null)[]; order: number[] };
}

describe('PEP 440 versions', () => {
  it('orders the PEP 440 examples and normalises spellings', () => {
    // the summary ordering of PEP 440 ("Examples of compliant version schemes" / "Summary of permitted suffixes")
    const ascending = [
      '1.dev0',
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.0.15',
      '1.1.dev1',
      '2!0.1',
    ];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(comparePep440(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(comparePep440('1.0.0a1', '1.0a1')).toBe(0);
    expect(comparePep440('1.0-1', '1.0.post1')).toBe(0);
    expect(comparePep440('v1.0', '1.0')).toBe(0);
    expect(normalizePep440('1.0.0-ALPHA_1')).toBe('1.0.0a1');
    expect(normalizePep440('v2.0-1')).toBe('2.0.post1');
    expect(normalizePep440('1.0c2.DEV')).toBe('1.0rc2.dev0');
    expect(normalizePep440('0!01.02+Ubuntu-1')).toBe('1.2+ubuntu.1');
  });

  it('is a consistent total order on real and hostile strings', () => {
    const real = records.flatMap((r) => r.affected ?? []).flatMap((a) => a.versions ?? []).slice(0, 200);
    expect(orderViolations(comparePep440, [...real, ...GARBAGE_VERSIONS, '0.6m5', '2013-06-01T10:32:51+0200'])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(pep440Versions.compare)).toBeLessThan(3_000);
  });

  it('puts every version a PyPA record lists inside that record’s ranges', () => {
    let checked = 0;
    const outside: string[] = [];
    for (const record of records) {
      for (const affected of record.affected ?? []) {
        const ranges = (affected.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM').flatMap((r) => eventRanges(r.events));
        if (ranges.length === 0) continue;
        const versions = (affected.versions ?? []).filter(isPep440).sort(comparePep440);
        for (const v of versions) {
          checked++;
          if (!ranges.some((r) => inRange(pep440Versions, v, r))) outside.push(`${record.id}: ${v}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(50_000);
    expect(outside.filter((o) => !((o.split(':')[0] ?? '') in LIST_OUTSIDE_RANGES)).slice(0, 20)).toEqual([]);
    // the exclusions name only records that really disagree
    expect(Object.keys(LIST_OUTSIDE_RANGES).filter((id) => !outside.some((o) => o.startsWith(`${id}:`)))).toEqual([]);
    console.log(`pep440: ${checked} listed versions inside their records' ranges`);
  });

  describe('agrees with Python packaging', () => {
    it('on validity, normal form and ordering of every version the PyPA records name', () => {
      const versions = [...new Set(records.flatMap((r) => (r.affected ?? []).flatMap((a) => [...(a.versions ?? []), ...(a.ranges ?? []).flatMap((g) => (g.type === 'ECOSYSTEM' ? g.events.flatMap((e) => Object.values(e)) : []))])))];
      const hostile = [...GARBAGE_VERSIONS, '1.0.0-ALPHA_1', 'v2.0-1', '1.0c2.DEV', '1!2.0rc1.post2.dev3+local.7.x', '1.0+', '1.0+-x', '1..0', '1.0.', ' 1.0\t'];
      const all = [...versions, ...hostile];
      const valid = all.filter((v) => pep440Versions.valid(v));
      // list neighbours (by our order) and a spread of far pairs
      const sorted = [...valid].sort(comparePep440);
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < sorted.length; i++) pairs.push([sorted[i] ?? '', sorted[i + 1] ?? '']);
      for (let i = 0; i < valid.length; i++) pairs.push([valid[i] ?? '', valid[(i * 7919 + 13) % valid.length] ?? '']);
      const oracle = packagingOracle(all, pairs);

      expect(all.filter((v, i) => pep440Versions.valid(v) !== oracle.valid[i])).toEqual([]);
      expect(all.filter((v, i) => normalizePep440(v) !== oracle.normal[i])).toEqual([]);
      const disagreements = pairs.filter(([a, b], i) => Math.sign(comparePep440(a, b)) !== oracle.order[i]).slice(0, 10);
      expect(disagreements).toEqual([]);
      const counts = outcomeCounts(comparePep440, pairs);
      expect(counts.lt).toBeGreaterThan(1000);
      expect(counts.gt).toBeGreaterThan(1000);
      expect(counts.eq).toBeGreaterThan(10);
      console.log(`packaging oracle: ${all.length} versions validated and normalised, ${pairs.length} pairs compared (${counts.lt} lt, ${counts.eq} eq, ${counts.gt} gt)`);
    });
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { compareGoVersions, goVersions, isGoPseudoVersion } from './go.js';
import { inRange } from './index.js';
import { GARBAGE_VERSIONS, orderViolations, outcomeCounts, slowestHugeComparisonMs } from '../../../test/support/version-checks.js';

interface OsvRecord {
  id: string;
  affected?: { package: { name: string }; ranges?: { type: string; events: Record<string, string>[] }[] }[];
}

const records = readFileSync(join(corpusDir, 'vuln', 'osv-go', 'govulndb-osv.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as OsvRecord);

const eventVersions = (): string[] =>
  [...new Set(records.flatMap((r) => (r.affected ?? []).flatMap((a) => (a.ranges ?? []).flatMap((g) => g.events.flatMap((e) => Object.values(e))))))];

/** node-semver (a transitive dependency) when resolvable: Go module precedence is SemVer 2.0 precedence. */
function loadNodeSemver(): { compare(a: string, b: string): number } | null {
  try {
    return createRequire(import.meta.url)('semver') as { compare(a: string, b: string): number };
  } catch {
    return null;
  }
}
const nodeSemver = loadNodeSemver();

describe('Go module versions', () => {
  it('orders releases, pre-releases and the three pseudo-version forms', () => {
    const ascending = [
      'v0.0.0-20191109021931-daa7c04131f5', // no tagged release yet
      'v0.0.0-20210101000000-abcdef123456',
      'v0.1.0-rc.1',
      'v0.1.0',
      'v0.1.1-0.20210301000000-0123456789ab', // after v0.1.0, before v0.1.1
      'v0.1.1',
      'v1.2.3-pre',
      'v1.2.3-pre.0.20220101000000-0123456789ab', // after v1.2.3-pre
      'v1.2.3',
      'v1.10.0',
      'v2.0.0+incompatible',
      'v2.0.1',
    ];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareGoVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(compareGoVersions('v2.0.0+incompatible', 'v2.0.0')).toBe(0);
    expect(compareGoVersions('v1', 'v1.0.0')).toBe(0);
    expect(compareGoVersions('v1.2', '1.2.0')).toBe(0);
    expect(isGoPseudoVersion('v0.0.0-20191109021931-daa7c04131f5')).toBe(true);
    expect(isGoPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5')).toBe(true);
    expect(isGoPseudoVersion('v1.2.3-rc.1.0.20191109021931-daa7c04131f5')).toBe(true);
    expect(isGoPseudoVersion('v1.2.3-rc.1')).toBe(false);
  });

  it('validates like golang.org/x/mod/semver (with the v optional, as OSV writes it)', () => {
    for (const v of ['v1.2.3', '1.2.3', 'v1', 'v1.2', 'v2.0.0+incompatible', 'v0.0.0-20210101000000-abcdef123456', '1.22.0-0']) expect(goVersions.valid(v), v).toBe(true);
    for (const v of ['', 'v', 'v01.2.3', 'v1.2.3-01', 'v1.2-pre', 'v1+meta', 'v1.2.3.4', 'go1.21', 'v1.2.3-', 'V1.2.3']) expect(goVersions.valid(v), v).toBe(false);
  });

  it('finds introduced before fixed in every range of the Go vulnerability database', () => {
    let ranges = 0;
    const wrong: string[] = [];
    const invalid = new Set<string>();
    for (const record of records) {
      for (const affected of record.affected ?? []) {
        for (const range of affected.ranges ?? []) {
          let introduced: string | null = null;
          for (const event of range.events) {
            for (const v of Object.values(event)) if (v !== '0' && !goVersions.valid(v)) invalid.add(`${record.id}: ${v}`);
            if (event.introduced !== undefined) introduced = event.introduced;
            if (event.fixed !== undefined && introduced !== null) {
              ranges++;
              if (compareGoVersions(introduced === '0' ? 'v0.0.0-0' : introduced, event.fixed) >= 0) wrong.push(`${record.id} ${affected.package.name}: ${introduced} .. ${event.fixed}`);
              // the fixed version itself is never affected; the introduced one is
              if (inRange(goVersions, event.fixed, { introduced, fixed: event.fixed })) wrong.push(`${record.id}: fixed ${event.fixed} in range`);
              if (introduced !== '0' && !inRange(goVersions, introduced, { introduced, fixed: event.fixed })) wrong.push(`${record.id}: introduced ${introduced} not in range`);
              introduced = null;
            }
          }
        }
      }
    }
    expect([...invalid]).toEqual([]);
    expect(wrong).toEqual([]);
    expect(ranges).toBeGreaterThan(5000);
    console.log(`go: ${ranges} introduced/fixed ranges ordered`);
  });

  it('is a consistent total order on real and hostile strings', () => {
    expect(orderViolations(compareGoVersions, [...eventVersions().slice(0, 200), ...GARBAGE_VERSIONS, 'v1', 'v1.0', 'v1.0.0', 'v1.0.0+x'])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(goVersions.compare)).toBeLessThan(3_000);
  });

  describe('agrees with SemVer precedence (node-semver)', () => {
    it('on pairs of every full version in the Go vulnerability database', () => {
      const semver = nodeSemver as { compare(a: string, b: string): number };
      const versions = eventVersions().filter((v) => v !== '0');
      const pairs: [string, string][] = [];
      for (let i = 0; i < versions.length; i++) for (const step of [1, 2, 3, 5, 8]) pairs.push([versions[i] ?? '', versions[(i * 13 + step) % versions.length] ?? '']);
      const disagreements = pairs.filter(([a, b]) => Math.sign(compareGoVersions(`v${a}`, b)) !== semver.compare(a, b)).slice(0, 10);
      expect(disagreements).toEqual([]);
      const counts = outcomeCounts(compareGoVersions, pairs);
      expect(counts.lt).toBeGreaterThan(1000);
      expect(counts.gt).toBeGreaterThan(1000);
      console.log(`go/node-semver oracle: ${pairs.length} pairs over ${versions.length} versions`);
    });
  });
});

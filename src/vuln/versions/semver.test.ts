import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { compareSemver, parseNpmRange, parseSemver, satisfiesNpmRange, semverVersions, type NpmRange } from './semver.js';
import { GARBAGE_VERSIONS, hugeVersions, orderViolations, outcomeCounts, slowestHugeComparisonMs } from '../../../test/support/version-checks.js';

interface NpmAdvisory {
  id: number;
  module_name: string;
  vulnerable_versions?: string | null;
  patched_versions?: string | null;
}

const advisories = JSON.parse(readFileSync(join(corpusDir, 'vuln', 'nodejs-security-wg', 'npm-advisories.json'), 'utf8')) as NpmAdvisory[];

/**
 * Advisories whose own ranges overlap, so some version is both "vulnerable" and "patched" per the feed itself;
 * each was read by hand.
 */
const INCONSISTENT_ADVISORIES: Record<number, string> = {
  92: 'express-restify-mongoose: 3.0.0 is in vulnerable ">= 3.0.0 <=3.0.1" and in patched ">=2.5.0 <= 3.0.0"',
  98: 'npm: 3.0.0 is in vulnerable ">= 3.0.0 <= 3.8.2" and in patched ">= 2.15.1 <= 3.0.0"',
  336: 'windows-cpu has no fix: patched "<=0.0.0" means "none", yet 0.0.0 is also in vulnerable "<=99.999.99999"',
  357: 'mqtt: vulnerable ">=2.0.0" is open-ended although patched is ">=2.15.0"',
  400: 'protobufjs: the patched 5.x line ">=5.0.3 <6.0.0" lies inside vulnerable "<=6.8.5"',
  490: 'node.extend: vulnerable "<2.0.1 || <1.1.7" also covers the patched 1.1.x line',
  495: 'electron: each "<X" set of the vulnerable union covers the previous line\'s patched release (e.g. 2.0.18 < 3.0.16)',
};

/** node-semver 7 when it is resolvable (a transitive dependency of the lint toolchain), else null. */
interface NodeSemver {
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  compare(a: string, b: string): number;
  valid(version: string): string | null;
  validRange(range: string): string | null;
  SEMVER_SPEC_VERSION: string;
}
function loadNodeSemver(): NodeSemver | null {
  try {
    const semver = createRequire(import.meta.url)('semver') as NodeSemver;
    return semver.SEMVER_SPEC_VERSION === '2.0.0' ? semver : null;
  } catch {
    return null;
  }
}
const nodeSemver = loadNodeSemver();

/** The lowest version each comparator set admits: the highest lower bound (`>=X` → X, `>X` → next patch), else 0.0.0. */
function lowestOfEachSet(range: NpmRange): string[] {
  return range.map((set) => {
    let best = '0.0.0';
    for (const c of set) {
      if (c.op !== '>=' && c.op !== '>' && c.op !== '=') continue;
      const v = c.version;
      const text = c.op === '>' && v.prerelease.length === 0 ? `${v.major}.${v.minor}.${BigInt(v.patch) + 1n}` : `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;
      if (compareSemver(text, best) > 0) best = text;
    }
    return best;
  });
}

/** Versions named in a range string plus neighbours on both sides of every bound. */
function probeVersions(range: string): string[] {
  const out = new Set<string>(['0.0.0', '0.0.1-alpha', '99.0.0']);
  for (const m of range.matchAll(/(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(-[0-9A-Za-z.-]+)?/g)) {
    const major = BigInt(m[1] ?? '0');
    const minor = m[2] && /^\d+$/.test(m[2]) ? BigInt(m[2]) : 0n;
    const patch = m[3] && /^\d+$/.test(m[3]) ? BigInt(m[3]) : 0n;
    const base = `${major}.${minor}.${patch}`;
    out.add(base);
    if (m[4]) out.add(`${base}${m[4]}`);
    out.add(`${base}-0`);
    out.add(`${base}-rc.1`);
    out.add(`${major}.${minor}.${patch + 1n}`);
    out.add(`${major}.${minor + 1n}.0`);
    out.add(`${major + 1n}.0.0-beta`);
    out.add(`${major + 1n}.0.0`);
    if (patch > 0n) out.add(`${major}.${minor}.${patch - 1n}`);
    if (minor > 0n) out.add(`${major}.${minor - 1n}.99`);
  }
  return [...out];
}

describe('SemVer ordering', () => {
  it('follows the SemVer 2.0.0 precedence example and ignores build metadata', () => {
    const ascending = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareSemver(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(compareSemver('1.0.0+build.1', '1.0.0+build.2')).toBe(0);
    expect(compareSemver('v1.2.3', '1.2.3')).toBe(0);
    expect(compareSemver('1.2.3-1', '1.2.3-a')).toBeLessThan(0); // numeric identifiers first
    expect(compareSemver('1.2.3-Z', '1.2.3-a')).toBeLessThan(0); // ASCII
    expect(compareSemver('18446744073709551616.0.0', '18446744073709551615.0.0')).toBeGreaterThan(0);
  });

  it('is lenient for crates.io and Packagist spellings', () => {
    expect(compareSemver('1.2', '1.2.0')).toBe(0);
    expect(compareSemver('v2.1.0.3', '2.1.0')).toBeGreaterThan(0);
    expect(compareSemver('4.4.46', '4.4.5')).toBeGreaterThan(0);
    expect(compareSemver('not a version', '0.0.0')).toBeLessThan(0);
  });

  it('validates strict SemVer', () => {
    for (const v of ['1.2.3', 'v1.2.3', '1.0.0-alpha.1+build.5', '0.0.0-0', '1.2.3----RC-SNAPSHOT.12.9.1--.12+788']) expect(semverVersions.valid(v), v).toBe(true);
    for (const v of ['1.2', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '1.2.3-a..b', 'V1.2.3', '=1.2.3', '1.2.3.4', '']) expect(semverVersions.valid(v), v).toBe(false);
  });

  it('is a consistent total order on real and hostile strings', () => {
    const real = [...new Set(advisories.flatMap((a) => probeVersions(`${a.vulnerable_versions ?? ''} ${a.patched_versions ?? ''}`)))].slice(0, 200);
    expect(orderViolations(compareSemver, [...real, ...GARBAGE_VERSIONS, '1.2', '1.2.0.0', 'v1.2.3', '=1.2.3'])).toEqual([]);
  });

  it('does bounded work on huge strings and ranges', () => {
    expect(slowestHugeComparisonMs(semverVersions.compare)).toBeLessThan(3_000);
    const started = performance.now();
    for (const huge of hugeVersions()) {
      parseNpmRange(huge);
      satisfiesNpmRange('1.0.0', `${huge} || ${huge}`);
      satisfiesNpmRange(huge, '>=1.0.0');
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('npm ranges', () => {
  it('desugars caret, tilde, x-ranges, hyphen ranges and unions', () => {
    const cases: [string, string[], string[]][] = [
      ['^1.2.3', ['1.2.3', '1.9.9'], ['1.2.2', '2.0.0', '2.0.0-0', '1.3.0-beta']],
      ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0', '0.2.2']],
      ['^0.0.3', ['0.0.3'], ['0.0.4', '0.0.2']],
      ['~1.2', ['1.2.0', '1.2.99'], ['1.3.0', '1.1.9']],
      ['~1.2.3-beta.2', ['1.2.3-beta.2', '1.2.3-beta.4', '1.2.4'], ['1.2.3-beta.1', '1.2.4-beta', '1.3.0']],
      ['1.x || >=2.5.0 <3', ['1.0.0', '1.99.0', '2.5.0', '2.9.9'], ['2.0.0', '3.0.0', '0.9.9']],
      ['1.2.3 - 2.3', ['1.2.3', '2.3.99'], ['1.2.2', '2.4.0']],
      ['>1.2', ['1.3.0'], ['1.2.99']],
      ['<=1.2', ['1.2.99'], ['1.3.0']],
      ['>= 2.0.1 <3.0.2', ['2.0.1', '3.0.1'], ['3.0.2']],
      ['*', ['0.0.0', '99.1.2'], ['1.0.0-rc.1']],
      ['', ['1.0.0'], []],
      ['<=v2.0.0-alpha7', ['2.0.0-alpha6', '1.9.0'], ['2.0.0-alpha8', '2.0.0']],
    ];
    for (const [range, inside, outside] of cases) {
      for (const v of inside) expect(satisfiesNpmRange(v, range), `${v} in ${range}`).toBe(true);
      for (const v of outside) expect(satisfiesNpmRange(v, range), `${v} not in ${range}`).toBe(false);
    }
    expect(satisfiesNpmRange('1.3.0-beta', '^1.2.3', { includePrerelease: true })).toBe(true);
    for (const bad of ['>=1.2.3foo', '1.2.3.4', '~>', '^01.2.3', '1.2-beta', '>>1']) expect(parseNpmRange(bad), bad).toBeNull();
  });

  it('keeps every npm advisory’s patched versions out of its vulnerable range and vice versa', () => {
    let checked = 0;
    const overlaps: string[] = [];
    for (const advisory of advisories) {
      const { vulnerable_versions: vulnerable, patched_versions: patched } = advisory;
      if (typeof vulnerable !== 'string' || typeof patched !== 'string') continue;
      const vulnerableRange = parseNpmRange(vulnerable);
      const patchedRange = parseNpmRange(patched);
      expect(vulnerableRange, `${advisory.id} vulnerable ${vulnerable}`).not.toBeNull();
      expect(patchedRange, `${advisory.id} patched ${patched}`).not.toBeNull();
      if (!vulnerableRange || !patchedRange) continue;
      for (const fixed of lowestOfEachSet(patchedRange)) {
        if (!satisfiesNpmRange(fixed, patchedRange)) continue; // an empty set such as `<0.0.0`
        checked++;
        if (satisfiesNpmRange(fixed, vulnerableRange)) overlaps.push(`${advisory.id}: patched ${fixed} is in vulnerable ${JSON.stringify(vulnerable)}`);
      }
      for (const affected of lowestOfEachSet(vulnerableRange)) {
        if (!satisfiesNpmRange(affected, vulnerableRange)) continue;
        checked++;
        if (satisfiesNpmRange(affected, patchedRange)) overlaps.push(`${advisory.id}: vulnerable ${affected} is in patched ${JSON.stringify(patched)}`);
      }
    }
    expect(checked).toBeGreaterThan(700);
    console.log(`npm advisories: ${checked} patched/vulnerable floors checked against the opposite range`);
    const overlapping = new Set(overlaps.map((o) => Number(o.split(':')[0])));
    expect(overlaps.filter((o) => !(Number(o.split(':')[0]) in INCONSISTENT_ADVISORIES))).toEqual([]);
    // and the exclusion table lists only advisories that really overlap
    expect(Object.keys(INCONSISTENT_ADVISORIES).map(Number).filter((id) => !overlapping.has(id))).toEqual([]);
  });

  describe('agrees with node-semver', () => {
    const semver = nodeSemver as NodeSemver;

    it('on satisfies() for every advisory range and versions around its bounds', () => {
      let pairs = 0;
      const disagreements: string[] = [];
      for (const advisory of advisories) {
        for (const range of [advisory.vulnerable_versions, advisory.patched_versions]) {
          if (typeof range !== 'string') continue;
          for (const v of probeVersions(range)) {
            for (const includePrerelease of [false, true]) {
              pairs++;
              const expected = semver.satisfies(v, range, { includePrerelease });
              if (satisfiesNpmRange(v, range, { includePrerelease }) !== expected) disagreements.push(`${v} in ${range} (includePrerelease ${includePrerelease}): node-semver ${expected}`);
            }
          }
        }
      }
      expect(disagreements.slice(0, 10)).toEqual([]);
      expect(pairs).toBeGreaterThan(10_000);
      console.log(`node-semver satisfies oracle: ${pairs} (version, range, option) triples`);
    });

    it('on satisfies() for every piece of range syntax', () => {
      const ranges = [
        '^1.2.3', '^1.2.3-beta.2', '^0.2.3', '^0.0.3', '^0.0.3-beta', '^1.2.x', '^1.x', '^0.0.x', '^0.0', '^0.x', '^1', '^0', '^*',
        '~1.2.3', '~1.2.3-beta.2', '~1.2', '~1', '~0.2.3', '~0', '~>1.2.3', '~> 1.2', '~*',
        '1.2.3 - 2.3.4', '1.2 - 2.3.4', '1.2.3 - 2.3', '1.2.3 - 2', '1.2.3-rc.1 - 2.0.0-beta', '* - 2', '1.x - 3.x',
        '1.x', '1.2.x', '1.2.*', '*', 'x', 'X', '', '1', '1.2', '=1.2', '=1', 'v1.2.3', '=v1.2.3', '= 1.2.3',
        '>1', '>1.2', '>=1.2', '<1.2', '<=1.2', '<=1', '>1.2.3-alpha.3', '<1.2.3-alpha.3', '>=1.2.3-alpha.3 <1.2.4', '>*', '<*', '>=*',
        '>= 1.2.3 < 2', '> 1.2.3 <= 2.0.0-rc.1', '1.2.3 || 2.x || ^3.0.0-beta', '<1.0.0 || >=2.0.0-alpha <2.0.0', '>=0.0.0', '>=0.0.0-0',
        '<0.0.0-0', '1.2.3+build', '>=1.2.3+build <2', '^18446744073709551615.0.0',
      ];
      let triples = 0;
      const disagreements: string[] = [];
      for (const range of ranges) {
        expect(parseNpmRange(range) !== null, `parses ${JSON.stringify(range)}`).toBe(semver.validRange(range) !== null);
        if (semver.validRange(range) === null) continue;
        for (const v of [...probeVersions(range), '1.2.3-alpha.3', '1.2.3-alpha.7', '1.2.4-alpha', '3.4.5-beta', '0.0.3-beta.1', '0.0.4-0']) {
          for (const includePrerelease of [false, true]) {
            triples++;
            const expected = semver.satisfies(v, range, { includePrerelease });
            if (satisfiesNpmRange(v, range, { includePrerelease }) !== expected) disagreements.push(`${v} in ${JSON.stringify(range)} (includePrerelease ${includePrerelease}): node-semver ${expected}`);
          }
        }
      }
      expect(disagreements.slice(0, 10)).toEqual([]);
      console.log(`node-semver syntax oracle: ${triples} (version, range, option) triples over ${ranges.length} ranges`);
    });

    it('on compare() and valid() for every version the advisories name', () => {
      const versions = [...new Set(advisories.flatMap((a) => probeVersions(`${a.vulnerable_versions ?? ''} ${a.patched_versions ?? ''}`)))];
      let pairs = 0;
      const disagreements: string[] = [];
      for (let i = 0; i < versions.length; i++) {
        const a = versions[i] ?? '';
        expect(semverVersions.valid(a), a).toBe(semver.valid(a) !== null);
        for (let step = 1; step <= 12; step++) {
          const b = versions[(i + step * 37) % versions.length] ?? '';
          pairs++;
          if (Math.sign(compareSemver(a, b)) !== semver.compare(a, b)) disagreements.push(`${a} vs ${b}`);
        }
      }
      const counts = outcomeCounts(compareSemver, versions.map((a, i) => [a, versions[(i + 37) % versions.length] ?? ''] as [string, string]));
      expect(counts.lt + counts.gt).toBeGreaterThan(100);
      expect(disagreements).toEqual([]);
      console.log(`node-semver compare oracle: ${pairs} pairs over ${versions.length} versions`);
    });

    it('on valid() and satisfies() for hostile inputs', () => {
      for (const g of [...GARBAGE_VERSIONS, '1.2.3-01', 'v1.2.3', ' 1.2.3 ', '1.2.3+build', '1.2.3-']) {
        expect(semverVersions.valid(g), JSON.stringify(g)).toBe(semver.valid(g) !== null);
        expect(parseSemver(g) !== null).toBe(semver.valid(g) !== null);
      }
    });
  });
});

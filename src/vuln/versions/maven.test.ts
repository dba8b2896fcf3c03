import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { inRange } from './index.js';
import { compareMavenVersions, mavenVersions } from './maven.js';
import { filesBelow, GARBAGE_VERSIONS, orderViolations, outcomeCounts, slowestHugeComparisonMs } from '../../../test/support/version-checks.js';

/** Real Maven versions: the peer scanners' expected Java packages, the `<version>`s of the pom fixtures, GHSA ranges. */
function realMavenVersions(): string[] {
  const found = new Set<string>();
  for (const peer of ['trivy', 'syft']) {
    const expected = JSON.parse(readFileSync(join(corpusDir, 'fixtures', peer, 'expected-packages.json'), 'utf8')) as Record<string, { Version?: unknown }[]>;
    for (const [fixture, packages] of Object.entries(expected)) {
      if (!/java|jar|pom|maven|gradle/i.test(fixture)) continue;
      for (const p of packages) if (typeof p.Version === 'string' && p.Version !== '') found.add(p.Version);
    }
  }
  for (const file of filesBelow(join(corpusDir, 'fixtures'))) {
    if (!file.endsWith('.xml')) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/<version>([^<$\s]+)<\/version>/g)) found.add(m[1] ?? '');
  }
  found.add('3.5.3.1'); // mybatis-plus GHSA "< 3.5.3.1"
  return [...found].filter((v) => v !== '');
}

/** Every base with every qualifier spelling: the interesting part of Maven ordering is in the qualifiers. */
function syntheticMavenVersions(): string[] {
  const bases = ['1', '1.0', '1.0.0', '1.0.1', '1.1', '2', '1.0.0.0', '1-0'];
  const tails = [
    '', '-alpha', '-alpha-1', '-alpha1', '-a1', '.alpha1', 'alpha', 'a', '-beta', '-b2', '-Beta-2', '-milestone-1', '-m1', '.M2',
    '-rc1', '-RC1', '-cr1', '-CR', '-rc.2', '-SNAPSHOT', '-snapshot', '.RELEASE', '-ga', '-GA', '-final', '.Final', '-release',
    '-sp', '-sp1', '-SP2', '.sp.1', '-foo', '-xyz', '-Xyz1', '-1', '.1', '-0', '.0', '-0.0', '_1', '+1', '-jre', '-android',
    '.SEC03', '-20201010.123456-1', 'b', 'c', '-alpha-snapshot', '-1-SNAPSHOT', '--1', '.-1', '-.1', '-a', '-b', '-m', '-ab1',
    `-${'9'.repeat(12)}`, `.${'0'.repeat(25)}1`, `.${'1'.repeat(25)}`,
  ];
  return bases.flatMap((b) => tails.map((t) => b + t));
}

/** `maven-artifact` from the local Maven repository (never downloaded by the test), newest first. */
function mavenArtifactJar(): string | null {
  const dir = join(homedir(), '.m2', 'repository', 'org', 'apache', 'maven', 'maven-artifact');
  if (!existsSync(dir)) return null;
  const versions = readdirSync(dir)
    .filter((v) => /^3\.9\.\d+$/.test(v) && existsSync(join(dir, v, `maven-artifact-${v}.jar`)))
    .sort(compareMavenVersions);
  const newest = versions[versions.length - 1];
  if (!newest) return null;
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return join(dir, newest, `maven-artifact-${newest}.jar`);
}
const jar = mavenArtifactJar();

/** Runs `ComparableVersion`'s main, which compares each argument with the next; returns the sign of every step. */
function comparableVersionSteps(sequence: string[]): number[] {
  const out: number[] = [];
  for (let start = 0; start < sequence.length - 1; start += 4000) {
    const chunk = sequence.slice(start, start + 4001);
    const text = execFileSync('java', ['-cp', jar ?? '', 'org.apache.maven.artifact.versioning.ComparableVersion', ...chunk], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    for (const line of text.split('\n')) {
      const m = /^ {3}(\S*) (<|>|==) (\S*)$/.exec(line);
      if (m) out.push(m[2] === '<' ? -1 : m[2] === '>' ? 1 : 0);
    }
  }
  return out;
}

describe('Maven versions', () => {
  it('ranks qualifiers like ComparableVersion', () => {
    const ascending = ['1-alpha-1', '1-alpha-2', '1-beta-1', '1-milestone-1', '1-rc-1', '1-SNAPSHOT', '1', '1-sp-1', '1-abc', '1-1', '1.0.1', '1.1', '1.10', '2'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareMavenVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    for (const [a, b] of [['1', '1.0.0'], ['1-ga', '1'], ['1.0.RELEASE', '1'], ['1-final', '1'], ['1-cr1', '1-rc-1'], ['1a1', '1-alpha-1'], ['1.0-RC1', '1.0-rc1']]) {
      expect(compareMavenVersions(a ?? '', b ?? ''), `${a} = ${b}`).toBe(0);
    }
  });

  it('applies OSV ranges from GHSA Maven records', () => {
    // GHSA-xx65-cc7g-9pfp: org.springframework.boot:spring-boot introduced 1.5.0, fixed 1.5.10
    const range = { introduced: '1.5.0', fixed: '1.5.10' };
    for (const v of ['1.5.0.RELEASE', '1.5.9.RELEASE', '1.5.2']) expect(inRange(mavenVersions, v, range), v).toBe(true);
    for (const v of ['1.4.7.RELEASE', '1.5.10.RELEASE', '1.5.10', '2.0.0.M1', '1.5.0-RC1']) expect(inRange(mavenVersions, v, range), v).toBe(false);
  });

  it('reproduces ComparableVersion’s cycles (Maven’s order is not transitive where words meet nested lists)', () => {
    // Maven 3.9 itself: 1-alpha < 1 < 1.sp.1 < 1-alpha ("1.sp.1" is [1, sp, 1]: the word stays in the top list)
    expect(compareMavenVersions('1-alpha', '1')).toBeLessThan(0);
    expect(compareMavenVersions('1', '1.sp.1')).toBeLessThan(0);
    expect(compareMavenVersions('1.sp.1', '1-alpha')).toBeLessThan(0);
    // and 1-0-alpha < 1 < 1: < 1-0-alpha ([1, [[alpha]]] against [1, [:]]: a word sorts below a list)
    expect(compareMavenVersions('1-0-alpha', '1')).toBeLessThan(0);
    expect(compareMavenVersions('1', '1:')).toBeLessThan(0);
    expect(compareMavenVersions('1:', '1-0-alpha')).toBeLessThan(0);
  });

  it('is reflexive and antisymmetric on everything, transitive on real and ordinary synthetic versions', () => {
    const real = realMavenVersions();
    const synthetic = syntheticMavenVersions();
    const everything = [...real.slice(0, 100), ...synthetic.filter((_, i) => i % 3 === 0), ...GARBAGE_VERSIONS];
    // the transitivity check of orderViolations would report Maven's own cycles; check the pairwise laws here
    const pairwise = everything.flatMap((a) =>
      everything.filter((b) => Math.sign(compareMavenVersions(a, b)) !== -Math.sign(compareMavenVersions(b, a))).map((b) => `${a} vs ${b}`),
    );
    expect(pairwise).toEqual([]);
    // cycles need a word after a dot ("1.sp.1"), or a hyphen list whose first item is dropped as null so that it
    // starts with a nested list ("1-0-alpha", "1-0alpha", "1--1", "1-.1")
    const ordinary = [...real, ...synthetic].filter((v) => !/[A-Za-z]\.|-(?:0+(?=[A-Za-z.-])|(?=[.-]))/.test(v));
    expect(ordinary.length).toBeGreaterThan(300);
    expect(orderViolations(compareMavenVersions, ordinary)).toEqual([]);
  });

  it('does bounded work on huge strings (no recursion on deep nesting)', () => {
    expect(slowestHugeComparisonMs(mavenVersions.compare)).toBeLessThan(3_000);
    // 30 000 nested lists, within the parsed length: a recursive comparison would overflow the stack
    expect(compareMavenVersions('1-'.repeat(30_000) + '2', '1-'.repeat(30_000) + '1')).toBeGreaterThan(0);
    expect(compareMavenVersions('1-'.repeat(30_000) + 'alpha', '1-'.repeat(30_000))).toBeLessThan(0);
  });

  describe.skipIf(!jar)('agrees with Maven’s own ComparableVersion (maven-artifact 3.9 from ~/.m2)', () => {
    it('on real and synthetic versions in shuffled sequences', () => {
      const hostile = GARBAGE_VERSIONS.filter((g) => /^[\x21-\x7e]*$/.test(g) && g !== '');
      const pool = [...new Set([...realMavenVersions(), ...syntheticMavenVersions(), ...hostile])];
      // several deterministic shuffles; every adjacent pair is one comparison
      const sequence: string[] = [];
      for (const multiplier of [1, 7, 31, 101, 211, 307, 401, 503]) {
        for (let i = 0; i < pool.length; i++) sequence.push(pool[(i * multiplier + multiplier) % pool.length] ?? '');
      }
      const steps = comparableVersionSteps(sequence);
      expect(steps).toHaveLength(sequence.length - 1);
      const pairs = steps.map((_, i) => [sequence[i] ?? '', sequence[i + 1] ?? ''] as [string, string]);
      const disagreements = pairs.filter(([a, b], i) => Math.sign(compareMavenVersions(a, b)) !== steps[i]).slice(0, 10);
      expect(disagreements).toEqual([]);
      const counts = outcomeCounts(compareMavenVersions, pairs);
      expect(counts.eq).toBeGreaterThan(20);
      console.log(`ComparableVersion oracle: ${pairs.length} pairs over ${pool.length} versions (${counts.lt} lt, ${counts.eq} eq, ${counts.gt} gt)`);
    });
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { compareGemVersions, gemBump, gemVersions, parseGemRequirement, satisfiesGemRequirement } from './gem.js';
import { filesBelow, GARBAGE_VERSIONS, hugeVersions, orderViolations, outcomeCounts, slowestHugeComparisonMs } from '../../../test/support/version-checks.js';

interface RubysecAdvisory {
  file: string;
  patched: string[];
  unaffected: string[];
}

function advisories(): RubysecAdvisory[] {
  const out: RubysecAdvisory[] = [];
  for (const file of filesBelow(join(corpusDir, 'vuln', 'rubysec', 'gems'))) {
    if (!file.endsWith('.yml')) continue;
    const doc = parseYaml(readFileSync(file, 'utf8')) as { patched_versions?: unknown; unaffected_versions?: unknown } | null;
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    out.push({ file: file.split('/gems/')[1] ?? file, patched: strings(doc?.patched_versions), unaffected: strings(doc?.unaffected_versions) });
  }
  return out;
}

/** The lowest version a requirement list names as its floor: the version of `>=`, `~>` or `=`, the highest one. */
function floorOf(requirement: string): string | null {
  const parsed = parseGemRequirement(requirement);
  if (!parsed) return null;
  let floor: string | null = null;
  for (const r of parsed) {
    if ((r.op === '>=' || r.op === '~>' || r.op === '=') && (floor === null || compareGemVersions(r.version, floor) > 0)) floor = r.version;
  }
  return floor;
}

/** Versions named by requirements plus their neighbours: pre-releases, trailing zeros, the next patch/minor. */
function probeVersions(requirements: string[]): string[] {
  const out = new Set<string>(['0', '0.0.1', '99']);
  for (const req of requirements) {
    for (const r of parseGemRequirement(req) ?? []) {
      const v = r.version;
      out.add(v);
      out.add(`${v}.0`);
      out.add(`${v}.1`);
      out.add(`${v}.rc1`);
      out.add(`${v}.pre`);
      out.add(`${v}-beta.2`);
      out.add(gemBump(v));
      out.add(`${gemBump(v)}.a`);
    }
  }
  return [...out];
}

/** RubyGems itself, in one Ruby process: `correct?`, `<=>` and `Requirement#satisfied_by?` over JSON input. */
function rubygemsOracle(input: { versions: string[]; pairs: [string, string][]; checks: [string, string][] }): { correct: boolean[]; order: number[]; satisfied: boolean[] } {
  const script = `
require "json"
data = JSON.parse($stdin.read)
out = {
  "correct" => data["versions"].map { |v| Gem::Version.correct?(v) ? true : false },
  "order" => data["pairs"].map { |a, b| Gem::Version.new(a) <=> Gem::Version.new(b) },
  "satisfied" => data["checks"].map { |v, req| Gem::Requirement.new(*req.split(",").map(&:strip)).satisfied_by?(Gem::Version.new(v)) },
}
print JSON.generate(out)
`;
  const out = execFileSync('ruby', ['-e', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out) as { correct: boolean[]; order: number[]; satisfied: boolean[] };
}

describe('RubyGems versions', () => {
  it('orders like Gem::Version', () => {
    const ascending = ['1.0.a', '1.0.a.1', '1.0.b', '1.0.rc1', '1.0', '1.0.1.a', '1.0.1', '1.1.pre', '1.1', '1.10', '2'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareGemVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(compareGemVersions('1.0', '1')).toBe(0);
    expect(compareGemVersions('1.0.a.0', '1.a')).toBe(0);
    expect(compareGemVersions('1.0-beta', '1.0.pre.beta')).toBe(0);
    expect(compareGemVersions('1.0.A', '1.0.a')).toBeLessThan(0); // words compare by bytes
  });

  it('evaluates requirements: ~> bumps the next-to-last segment', () => {
    expect(gemBump('1.2.3')).toBe('1.3');
    expect(gemBump('1')).toBe('2');
    expect(gemBump('1.2.rc1')).toBe('2');
    expect(satisfiesGemRequirement('1.2.9', '~> 1.2.3')).toBe(true);
    expect(satisfiesGemRequirement('1.3.0', '~> 1.2.3')).toBe(false);
    expect(satisfiesGemRequirement('1.3.0.rc1', '~> 1.2.3')).toBe(false); // its release 1.3.0 is not below the bump 1.3
    expect(satisfiesGemRequirement('1.2.9.rc1', '~> 1.2.3')).toBe(true);
    expect(satisfiesGemRequirement('5.2.4.3', '~> 5.2.4, >= 5.2.4.3')).toBe(true);
    expect(satisfiesGemRequirement('5.2.4.2', '~> 5.2.4, >= 5.2.4.3')).toBe(false);
    expect(satisfiesGemRequirement('2.0', '!= 2')).toBe(false);
    expect(satisfiesGemRequirement('2.0', '2')).toBe(true);
    expect(parseGemRequirement('>= 1.0 foo')).toBeNull();
    expect(parseGemRequirement('https://example.com')).toBeNull();
  });

  it('has every rubysec patched requirement satisfied by its own floor', () => {
    let checked = 0;
    const failures: string[] = [];
    for (const advisory of advisories()) {
      for (const requirement of advisory.patched) {
        const floor = floorOf(requirement);
        if (floor === null) continue; // "< 1.0"-only requirements have no floor
        checked++;
        if (!satisfiesGemRequirement(floor, requirement)) failures.push(`${advisory.file}: ${floor} does not satisfy ${requirement}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(1500);
    console.log(`gem: ${checked} patched requirements satisfied by their floors`);
  });

  it('is a consistent total order on real and hostile strings', () => {
    const real = probeVersions(advisories().slice(0, 60).flatMap((a) => [...a.patched, ...a.unaffected]));
    expect(orderViolations(compareGemVersions, [...real, ...GARBAGE_VERSIONS])).toEqual([]);
  });

  it('does bounded work on huge strings and requirements', () => {
    expect(slowestHugeComparisonMs(gemVersions.compare)).toBeLessThan(3_000);
    const started = performance.now();
    for (const huge of hugeVersions()) {
      parseGemRequirement(huge);
      satisfiesGemRequirement('1.0', `~> ${huge}`);
      satisfiesGemRequirement(huge, '>= 1.0, < 2');
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  describe('agrees with RubyGems (ruby)', () => {
    it('on correct?, <=> and satisfied_by? for every rubysec requirement and versions around it', () => {
      const all = advisories();
      const requirements = [...new Set(all.flatMap((a) => [...a.patched, ...a.unaffected]))].filter((r) => parseGemRequirement(r) !== null);
      const versions = probeVersions(requirements);
      const hostile = GARBAGE_VERSIONS.filter((g) => !g.includes('\u0000'));
      const valid = versions.filter((v) => gemVersions.valid(v));
      const pairs: [string, string][] = [];
      for (let i = 0; i < valid.length; i++) for (const step of [1, 2, 7, 31]) pairs.push([valid[i] ?? '', valid[(i * 17 + step) % valid.length] ?? '']);
      const checks: [string, string][] = [];
      requirements.forEach((req, k) => {
        for (const v of probeVersions([req])) if (gemVersions.valid(v)) checks.push([v, req]);
        checks.push([valid[(k * 101) % valid.length] ?? '0', req]);
      });
      const oracle = rubygemsOracle({ versions: [...versions, ...hostile], pairs, checks });

      expect([...versions, ...hostile].filter((v, i) => gemVersions.valid(v) !== oracle.correct[i])).toEqual([]);
      expect(pairs.filter(([a, b], i) => Math.sign(compareGemVersions(a, b)) !== oracle.order[i]).slice(0, 10)).toEqual([]);
      expect(checks.filter(([v, req], i) => satisfiesGemRequirement(v, req) !== oracle.satisfied[i]).slice(0, 10)).toEqual([]);
      const counts = outcomeCounts(compareGemVersions, pairs);
      expect(counts.lt).toBeGreaterThan(1000);
      expect(counts.gt).toBeGreaterThan(1000);
      console.log(`RubyGems oracle: ${versions.length + hostile.length} versions validated, ${pairs.length} pairs compared, ${checks.length} requirement checks`);
    });
  });
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { inRange } from './index.js';
import { compareNuGetVersions, nugetVersions } from './nuget.js';
import { GARBAGE_VERSIONS, orderViolations, slowestHugeComparisonMs } from '../../../test/support/version-checks.js';

function loadNodeSemver(): { compare(a: string, b: string): number; valid(v: string): string | null } | null {
  try {
    return createRequire(import.meta.url)('semver') as { compare(a: string, b: string): number; valid(v: string): string | null };
  } catch {
    return null;
  }
}
const nodeSemver = loadNodeSemver();

/** Every version the npm advisories name (a convenient pool of real SemVer 2 versions with pre-release labels). */
function semverPool(): string[] {
  const advisories = JSON.parse(readFileSync(join(corpusDir, 'vuln', 'nodejs-security-wg', 'npm-advisories.json'), 'utf8')) as {
    vulnerable_versions?: string | null;
    patched_versions?: string | null;
  }[];
  const found = new Set<string>();
  for (const a of advisories) {
    for (const m of `${a.vulnerable_versions ?? ''} ${a.patched_versions ?? ''}`.matchAll(/\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?/g)) {
      found.add(m[0]);
      found.add(`${m[0].split('-')[0]}-beta.2`);
      found.add(`${m[0].split('-')[0]}-RC.1`);
    }
  }
  return [...found];
}

describe('NuGet versions', () => {
  it('orders like NuGetVersion: SemVer 2 precedence, case-insensitive labels, a fourth number', () => {
    const ascending = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.0.1-preview', '1.0.0.1', '1.0.1', '1.10', '2.0.0'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareNuGetVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(compareNuGetVersions('1.0.0-BETA', '1.0.0-beta')).toBe(0);
    expect(compareNuGetVersions('1.0', '1.0.0.0')).toBe(0);
    expect(compareNuGetVersions('1.01.0', '1.1.0')).toBe(0);
    expect(compareNuGetVersions('1.0.0+build.7', '1.0.0')).toBe(0);
    expect(compareNuGetVersions('1.0.0-beta1', '1.0.0-beta10')).toBeLessThan(0); // legacy labels compare as text
    // NuGet reads numeric labels with int.TryParse: past int32 they are text, so "9999999999" > "10000000000"
    expect(compareNuGetVersions('1.0.0-9999999999', '1.0.0-10000000000')).toBeGreaterThan(0);
    expect(compareNuGetVersions('1.0.0-999999999', '1.0.0-1000000000')).toBeLessThan(0);
  });

  it('applies the GHSA NuGet record’s range', () => {
    // GHSA-… Microsoft.NetCore.App.Runtime.linux-arm: introduced 9.0.0, fixed 9.0.6 (last known affected <= 9.0.5)
    const range = { introduced: '9.0.0', fixed: '9.0.6' };
    for (const v of ['9.0.0', '9.0.5', '9.0.5.1']) expect(inRange(nugetVersions, v, range), v).toBe(true);
    for (const v of ['8.0.16', '9.0.0-rc.2.24473.5', '9.0.6', '10.0.0-preview.1']) expect(inRange(nugetVersions, v, range), v).toBe(false);
  });

  it('validates', () => {
    for (const v of ['1.0', '1.0.0', '1.0.0.0', '1', '1.0.0-beta.1+sha.abc', '9.0.0-rc.2.24473.5']) expect(nugetVersions.valid(v), v).toBe(true);
    for (const v of ['', '1.0.0.0.0', 'a.b', '1.0.0-', '1.0.0-a..b', '1.0.0+', '2147483648.0', '1.0 beta']) expect(nugetVersions.valid(v), v).toBe(false);
  });

  it('is a consistent total order on real and hostile strings', () => {
    expect(orderViolations(compareNuGetVersions, [...semverPool().slice(0, 200), ...GARBAGE_VERSIONS, '1.0.0-BETA', '1.0.0.0'])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(nugetVersions.compare)).toBeLessThan(3_000);
  });

  describe('agrees with SemVer 2 precedence (node-semver) on lower-cased labels', () => {
    it('on pairs of real versions', () => {
      const semver = nodeSemver as { compare(a: string, b: string): number; valid(v: string): string | null };
      const pool = semverPool().filter((v) => semver.valid(v.toLowerCase()) !== null && !/\d{10}/.test(v));
      let pairs = 0;
      const disagreements: string[] = [];
      for (let i = 0; i < pool.length; i++) {
        for (const step of [1, 3, 11]) {
          const a = pool[i] ?? '';
          const b = pool[(i * 7 + step) % pool.length] ?? '';
          pairs++;
          if (Math.sign(compareNuGetVersions(a, b)) !== semver.compare(a.toLowerCase(), b.toLowerCase())) disagreements.push(`${a} vs ${b}`);
        }
      }
      expect(disagreements.slice(0, 10)).toEqual([]);
      expect(pairs).toBeGreaterThan(2000);
      console.log(`nuget/node-semver oracle: ${pairs} pairs over ${pool.length} versions`);
    });
  });
});

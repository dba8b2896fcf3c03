import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { compareDebianVersions, dpkgVersions, parseDebianVersion } from './dpkg.js';
import { debianTrackerVersions, GARBAGE_VERSIONS, slowestHugeComparisonMs, orderViolations, PairSet, spread } from '../../../test/support/version-checks.js';

const trackerDir = join(corpusDir, 'vuln', 'debian-security-tracker');

/**
 * Real versions of one package paired across releases, plus synthetic neighbours of each; an evenly spread sample
 * of `size` pairs, since every pair costs one dpkg process.
 */
function oraclePairs(byPackage: Map<string, string[]>, size: number): [string, string][] {
  const pairs = new PairSet();
  for (const versions of byPackage.values()) {
    for (let i = 0; i < versions.length; i++) {
      const x = versions[i] ?? '';
      for (let j = i + 1; j < Math.min(versions.length, i + 3); j++) pairs.add(x, versions[j] ?? '');
      const { epoch, upstream, revision } = parseDebianVersion(x);
      pairs.add(x, `${x}~1`);
      pairs.add(`${x}+b1`, x);
      if (epoch === '0') pairs.add(`1:${x}`, x);
      pairs.add(`0:${x}`, x);
      if (revision === '') pairs.add(x, `${x}-0`);
      else pairs.add(`${epoch === '0' ? '' : `${epoch}:`}${upstream}~rc1-${revision}`, x);
    }
  }
  return spread(pairs.list(), size);
}

const relation = (order: number): string => (order < 0 ? 'lt' : order > 0 ? 'gt' : 'eq');

/**
 * Asks dpkg to confirm each expected relation, one `dpkg --compare-versions a op b` per pair inside a shell loop
 * (no Node process per pair), two loops in parallel; returns the pairs dpkg disagrees with.
 */
async function dpkgDisagreements(expectations: string[][]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dpkg-oracle-'));
  try {
    const half = Math.ceil(expectations.length / 2);
    const chunks = [expectations.slice(0, half), expectations.slice(half)];
    const run = promisify(execFile);
    const outputs = await Promise.all(
      chunks.map(async (chunk, k) => {
        const file = join(dir, `pairs-${k}`);
        writeFileSync(file, chunk.map((e) => e.join('\t')).join('\n') + '\n');
        const script = 'while IFS="$(printf "\\t")" read -r a op b; do dpkg --compare-versions "$a" "$op" "$b" 2>/dev/null || printf "%s %s %s\\n" "$a" "$op" "$b"; done < "$1"';
        const { stdout } = await run('bash', ['-c', script, 'oracle', file], { maxBuffer: 1 << 24 });
        return stdout;
      }),
    );
    return outputs.join('').split('\n').filter((l) => l !== '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dpkg versions', () => {
  it('follows Debian policy ordering', () => {
    const ascending = [
      '1.0~~',
      '1.0~~a',
      '1.0~',
      '1.0',
      '1.0-1~bpo1',
      '1.0-1',
      '1.0-1+b1',
      '1.0-1.1',
      '1.0-2',
      '1.0-10',
      '1.0a',
      '1.0+',
      '1.0.1',
      '1.2~rc1',
      '1.2',
      '1.10',
      '2:0.1',
    ];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareDebianVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    // equal spellings: explicit zero epoch, leading zeros in digit runs, an absent revision and "-0"
    expect(compareDebianVersions('0:1.0-1', '1.0-1')).toBe(0);
    expect(compareDebianVersions('1.001', '1.1')).toBe(0);
    expect(compareDebianVersions('1.0', '1.0-0')).toBe(0);
    expect(compareDebianVersions('3.0.11-1~deb12u2', '3.0.11-1')).toBeLessThan(0);
    expect(compareDebianVersions('1:2.3-4', '9.9-9')).toBeGreaterThan(0);
  });

  it('says which strings are valid Debian versions', () => {
    for (const v of ['1.0', '1:2.3-4+deb11u1', '2:1.20.11-1+deb11u6', '1.0~rc1-1', '0', '20190114+really20220913-0+deb10u1']) {
      expect(dpkgVersions.valid(v), v).toBe(true);
    }
    for (const v of ['', ' ', 'a1.0', '1.0-', ':1.0', '1:', 'x:1.0', '1.0 2', '1.0-1_2', '1.0é', '99999999999:1.0']) {
      expect(dpkgVersions.valid(v), JSON.stringify(v)).toBe(false);
    }
  });

  it('is a consistent total order on real and hostile strings', () => {
    const real = [...debianTrackerVersions(trackerDir).values()].flat().slice(0, 150);
    expect(orderViolations(compareDebianVersions, [...real, ...GARBAGE_VERSIONS])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(dpkgVersions.compare)).toBeLessThan(3_000);
  });

  describe('agrees with dpkg --compare-versions', () => {
    it('on version pairs from the Debian security tracker and their neighbours', async () => {
      const pairs = oraclePairs(debianTrackerVersions(trackerDir), 3600);
      expect(pairs.length).toBeGreaterThanOrEqual(3000);
      const expectations = pairs.map(([a, b]) => [a, relation(compareDebianVersions(a, b)), b]);
      const counts = { lt: 0, eq: 0, gt: 0 } as Record<string, number>;
      for (const [, op] of expectations) counts[op ?? ''] = (counts[op ?? ''] ?? 0) + 1;
      // the sample must exercise every outcome, or agreement would prove little
      expect(counts.lt).toBeGreaterThan(400);
      expect(counts.gt).toBeGreaterThan(400);
      expect(counts.eq).toBeGreaterThan(200);
      expect(await dpkgDisagreements(expectations)).toEqual([]);
      console.log(`dpkg oracle: ${pairs.length} pairs (${counts.lt} lt, ${counts.eq} eq, ${counts.gt} gt)`);
    }, 180_000); // 3,600 dpkg processes: about 25 s alone, several times that while the detonation tests load the machine
  });
});

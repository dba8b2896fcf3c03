import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { compareRpmVersions, parseRpmVersion, rpmvercmp, rpmVersions } from './rpm.js';
import {
  alpineSecfixVersions,
  debianTrackerVersions,
  filesBelow,
  GARBAGE_VERSIONS,
  slowestHugeComparisonMs,
  orderViolations,
  outcomeCounts,
  PairSet,
  spread,
} from '../../../test/support/version-checks.js';

const vulnDir = join(corpusDir, 'vuln');

/** Real RPM EVRs: Red Hat / Alma / Rocky / Amazon / Oracle advisories and the rpm fixtures' expected packages. */
function realRpmVersions(): string[] {
  const found = new Set<string>();
  const evr = /\b\d+:\d[A-Za-z0-9._+~^]*-[A-Za-z0-9._+~^]+/g;
  for (const source of ['redhat', 'redhat-oval', 'alma', 'rocky', 'amazon', 'oracle-oval']) {
    for (const file of filesBelow(join(vulnDir, 'trivy-db-testdata', source))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(evr)) found.add(m[0]);
      // JSON advisories that spell the parts out: {"epoch": "0", "version": "9.11.26", "release": "4.el8_4"}
      for (const m of text.matchAll(/"epoch":\s*"(\d+)",\s*"version":\s*"([^"\s]+)",\s*"release":\s*"([^"\s]+)"/g)) {
        found.add(`${m[1]}:${m[2]}-${m[3]}`);
      }
    }
  }
  for (const peer of ['trivy', 'syft']) {
    const expected = JSON.parse(readFileSync(join(corpusDir, 'fixtures', peer, 'expected-packages.json'), 'utf8')) as Record<
      string,
      { Version?: unknown; Release?: unknown; Epoch?: unknown }[]
    >;
    for (const [fixture, packages] of Object.entries(expected)) {
      if (!/rpm|redhat/i.test(fixture)) continue;
      for (const p of packages) {
        if (typeof p.Version !== 'string' || typeof p.Release !== 'string' || p.Release === '') continue;
        const epoch = typeof p.Epoch === 'number' && p.Epoch > 0 ? `${p.Epoch}:` : '';
        found.add(`${epoch}${p.Version}-${p.Release}`);
      }
    }
  }
  return [...found];
}

/** Pairs of real versions and their `~` / `^` / release neighbours, plus real Debian and Alpine version strings. */
function oraclePairs(): [string, string][] {
  const pairs = new PairSet();
  const real = realRpmVersions();
  for (let i = 0; i < real.length; i++) {
    const x = real[i] ?? '';
    for (let j = i + 1; j < real.length; j++) pairs.add(x, real[j] ?? '');
    const { epoch, version, release } = parseRpmVersion(x);
    const e = epoch === '0' ? '' : `${epoch}:`;
    pairs.add(x, `${e}${version}~rc1-${release ?? '1'}`);
    pairs.add(x, `${e}${version}^20240101git1-${release ?? '1'}`);
    pairs.add(x, `${e}${version}.1-${release ?? '1'}`);
    pairs.add(x, `${e}${version}`);
    pairs.add(x, `0:${version}-${release ?? ''}`);
  }
  // rpm compares any string; the tracker's and secdb's real version strings stress letters, `~`, `+` and epochs
  const others = [
    ...spread([...debianTrackerVersions(join(vulnDir, 'debian-security-tracker')).values()].flat(), 1500),
    ...spread([...alpineSecfixVersions(join(vulnDir, 'alpine-secdb')).values()].flat(), 800),
  ];
  for (let i = 0; i + 1 < others.length; i++) {
    const x = others[i] ?? '';
    pairs.add(x, others[i + 1] ?? '');
    pairs.add(x, `${x}^1`);
    pairs.add(x, x.replace(/\./g, '_'));
  }
  return pairs.list();
}

/** `rpm.vercmp` on every pair in one rpm process (a Lua loop over a file of tab-separated pairs). */
function rpmVercmp(pairs: readonly [string, string][]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'rpm-oracle-'));
  try {
    const file = join(dir, 'pairs');
    writeFileSync(file, pairs.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n');
    const lua = `%{lua: for line in io.lines(${JSON.stringify(file)}) do local a, b = line:match("^(.-)\\t(.*)$"); print(rpm.vercmp(a, b) .. "\\n") end}`;
    const out = execFileSync('rpm', ['--eval', lua], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return out
      .trim()
      .split('\n')
      .map((line) => Number(line));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('rpm versions', () => {
  it('orders like rpmvercmp', () => {
    const ascending = ['1.0~rc1', '1.0~rc2', '1.0', '1.0^git1', '1.0^git2', '1.0a', '1.0.0', '1.0.1', '1.1', '1.10', '2'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(rpmvercmp(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(rpmvercmp('1.001', '1.1')).toBe(0);
    expect(rpmvercmp('1_0', '1.0')).toBe(0); // separators only separate
    expect(compareRpmVersions('1:1.0-1.el8', '2.0-1.el8')).toBeGreaterThan(0);
    expect(compareRpmVersions('0:1.0-1', '1.0-1')).toBe(0);
    expect(compareRpmVersions('1.0', '1.0-1')).toBeLessThan(0);
    expect(compareRpmVersions('3.2-33.el5_11.4', '3.2-33.el5.1.0.2')).toBeGreaterThan(0);
  });

  it('says which strings are plausible EVRs', () => {
    for (const v of ['1.0-1', '1:2.3-4.el8_4', '0:2.4.37-30.module+el8.3.0+7001+0766b9e7', '1.0~rc1^git2-1.fc39', '9.11.26']) {
      expect(rpmVersions.valid(v), v).toBe(true);
    }
    for (const v of ['', '-1', '1.0-', 'x:1.0', '1.0-1-2', ':1.0', '1.0 1', 'é']) expect(rpmVersions.valid(v), JSON.stringify(v)).toBe(false);
  });

  it('is a consistent total order on real and hostile strings', () => {
    expect(orderViolations(compareRpmVersions, [...realRpmVersions().slice(0, 120), ...GARBAGE_VERSIONS])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(rpmVersions.compare)).toBeLessThan(3_000);
  });

  describe('agrees with rpm.vercmp', () => {
    it('on real EVRs, their neighbours and real Debian/Alpine version strings', () => {
      const pairs = oraclePairs();
      expect(pairs.length).toBeGreaterThan(4000);
      const counts = outcomeCounts(compareRpmVersions, pairs);
      expect(counts.lt).toBeGreaterThan(300);
      expect(counts.gt).toBeGreaterThan(300);
      expect(counts.eq).toBeGreaterThan(300);
      const oracle = rpmVercmp(pairs);
      expect(oracle).toHaveLength(pairs.length);
      const disagreements = pairs
        .map(([a, b], i) => ({ a, b, rpm: oracle[i], ours: Math.sign(compareRpmVersions(a, b)) }))
        .filter((d) => d.rpm !== d.ours);
      expect(disagreements).toEqual([]);
      console.log(`rpm oracle: ${pairs.length} pairs (${counts.lt} lt, ${counts.eq} eq, ${counts.gt} gt)`);
    });
  });
});

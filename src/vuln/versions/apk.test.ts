import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { apkVersions, compareApkVersions } from './apk.js';
import { compareDigitRuns } from './text.js';
import { alpineSecfixVersions, GARBAGE_VERSIONS, slowestHugeComparisonMs, orderViolations, outcomeCounts, PairSet } from '../../../test/support/version-checks.js';

const secdbDir = join(corpusDir, 'vuln', 'alpine-secdb');

/**
 * Ascending chains of real secdb `secfixes` keys (v3.3–v3.11), each step checked by hand against apk-tools'
 * token rules; the comment says which rule decides.
 */
const HAND_CHECKED_CHAINS: { chain: string[]; rule: string }[] = [
  { chain: ['1.1.1a-r0', '1.1.1b-r1', '1.1.1d-r0', '1.1.1d-r1', '1.1.1d-r2', '1.1.1d-r3'], rule: 'letter after the digits, then -rN numerically' },
  { chain: ['1.0.2h-r0', '1.0.2h-r4', '1.0.2i-r0', '1.0.2o-r2', '1.0.2q-r0'], rule: 'the letter decides before the revision' },
  { chain: ['9.10.4_p3-r0', '9.10.4_p4-r0', '9.10.4_p8-r0', '9.10.4_p8-r1', '9.10.6_p1-r0', '9.11.0_p5-r0'], rule: '_pN is a post-release suffix with a number' },
  { chain: ['1.6_rc1-r0', '1.6_rc2-r5', '1.6_rc2-r6', '1.6-r0', '1.6.1-r0'], rule: '_rc is a pre-release: before the plain version' },
  { chain: ['0.99_beta19-r3', '0.99-r0', '0.99.3-r0', '0.100.1-r0', '0.100.2-r0'], rule: '_beta before release; 99 < 100 numerically' },
  { chain: ['0.7.1_alpha-r0', '0.7.1-r0', '0.8_alpha-r0', '0.8-r0'], rule: '_alpha before release' },
  { chain: ['1.0.0_rc7', '1.0.0_rc9', '1.0.0', '1.0.0-r0', '1.0.0-r1'], rule: 'no revision sorts before -r0' },
  { chain: ['6.0_p20170701-r0', '6.0_p20171125-r0', '6.0_p20171125-r1', '6.1_p20180414-r0'], rule: 'dated _p numbers compare numerically' },
  { chain: ['7.2_p1-r2', '7.2_p2-r1', '7.2_p2-r4', '7.4_p1-r0', '7.4_p1-r2', '7.5_p1-r8', '7.9_p1-r3'], rule: 'openssh-style _pN' },
  { chain: ['8.0.0056-r0', '8.0.0329-r0'], rule: 'a leading zero in a dotted part: string comparison, "0056" < "0329"' },
  { chain: ['8.201.08-r0', '8.212.04-r0', '8.232.09-r0', '8.242.08-r0'], rule: 'the middle part decides numerically' },
  { chain: ['16.02-r1', '16.02-r2', '16.02-r3', '18.09.7', '18.09.8', '19.03.1'], rule: 'leading-zero parts compare as strings; more parts is newer' },
  { chain: ['1.10a-r1', '1.10a-r2', '1.10a-r3', '1.10.1-r0'], rule: 'a letter sorts before a further dotted part' },
  { chain: ['9.12.3-r0', '9.12.3_p4-r0', '9.12.3.1-r0'], rule: '_p after the release (even its -rN), a dotted part after both' },
];

/**
 * An independent, structural reading of the apk rules for the simple shape real secdb keys have —
 * `N(.N)*[letter][_suffix[N]][-rN]` — used as the expected ordering for every key pair. Returns `null` for keys
 * outside that shape.
 */
interface SimpleApkVersion {
  numbers: string[];
  letter: string;
  suffix: { rank: number; number: string | null } | null;
  revision: string | null;
}
const SUFFIX_RANK: Record<string, number> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };

function readSimple(v: string): SimpleApkVersion | null {
  const m = /^(\d+(?:\.\d+)*)([a-z]?)(?:_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d+)?)?(?:-r(\d+))?$/.exec(v);
  if (!m) return null;
  return {
    numbers: (m[1] ?? '').split('.'),
    letter: m[2] ?? '',
    suffix: m[3] ? { rank: SUFFIX_RANK[m[3]] ?? 0, number: m[4] ?? null } : null,
    revision: m[5] ?? null,
  };
}

function compareSimple(a: SimpleApkVersion, b: SimpleApkVersion): number {
  const n = Math.min(a.numbers.length, b.numbers.length);
  for (let i = 0; i < n; i++) {
    const x = a.numbers[i] ?? '';
    const y = b.numbers[i] ?? '';
    // after the first part, a leading zero on either side means a plain string comparison
    const order = i > 0 && (x.startsWith('0') || y.startsWith('0')) ? (x < y ? -1 : x > y ? 1 : 0) : compareDigitRuns(x, y);
    if (order !== 0) return order;
  }
  // more dotted parts is newer, whatever follows the shorter one (letter, suffix, revision or the end)
  if (a.numbers.length !== b.numbers.length) return a.numbers.length > b.numbers.length ? 1 : -1;
  if (a.letter !== b.letter) return a.letter === '' ? -1 : b.letter === '' ? 1 : a.letter < b.letter ? -1 : 1;
  const rank = (v: SimpleApkVersion): number => v.suffix?.rank ?? 0;
  if (rank(a) !== rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (a.suffix && b.suffix && a.suffix.number !== b.suffix.number) {
    // a suffix without a number is followed by the revision or the end, which sort after a suffix number
    if (a.suffix.number === null || b.suffix.number === null) return a.suffix.number === null ? -1 : 1;
    const order = compareDigitRuns(a.suffix.number, b.suffix.number);
    if (order !== 0) return order;
  }
  if (a.revision === b.revision) return 0;
  if (a.revision === null || b.revision === null) return a.revision === null ? -1 : 1;
  return compareDigitRuns(a.revision, b.revision);
}

describe('apk versions', () => {
  it('orders hand-checked chains of real secdb versions', () => {
    for (const { chain, rule } of HAND_CHECKED_CHAINS) {
      for (let i = 0; i < chain.length; i++) {
        for (let j = i + 1; j < chain.length; j++) {
          const a = chain[i] ?? '';
          const b = chain[j] ?? '';
          expect(compareApkVersions(a, b), `${a} < ${b} (${rule})`).toBeLessThan(0);
          expect(compareApkVersions(b, a), `${b} > ${a} (${rule})`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('matches the structural reading of the rules on every pair of same-package secdb keys and a cross-package sample', () => {
    const byPackage = alpineSecfixVersions(secdbDir);
    const pairs = new PairSet();
    const keys = [...new Set([...byPackage.values()].flat())];
    for (const versions of byPackage.values()) {
      for (let i = 0; i < versions.length; i++) for (let j = i + 1; j < versions.length; j++) pairs.add(versions[i] ?? '', versions[j] ?? '');
      // each key against its neighbouring revisions, its pre-release and its post-release
      for (const v of versions) {
        const base = v.replace(/-r\d+$/, '');
        pairs.add(v, `${base}-r99`);
        if (!base.includes('_')) {
          pairs.add(v, `${base}_rc1-r0`);
          pairs.add(v, `${base}_p1-r0`);
          pairs.add(v, `${base}.1-r0`);
        }
      }
    }
    for (let i = 0; i < keys.length; i++) for (let step = 1; step <= 7; step++) pairs.add(keys[i] ?? '', keys[(i * 31 + step * 97) % keys.length] ?? '');
    const checked = pairs.list().filter(([a, b]) => readSimple(a) && readSimple(b));
    expect(checked.length).toBeGreaterThan(10_000);
    const counts = outcomeCounts(compareApkVersions, checked);
    expect(counts.lt).toBeGreaterThan(1000);
    expect(counts.gt).toBeGreaterThan(1000);
    const disagreements = checked
      .filter(([a, b]) => Math.sign(compareApkVersions(a, b)) !== compareSimple(readSimple(a) as SimpleApkVersion, readSimple(b) as SimpleApkVersion))
      .slice(0, 10);
    expect(disagreements).toEqual([]);
    console.log(`apk: ${checked.length} secdb-derived pairs checked (${counts.lt} lt, ${counts.eq} eq, ${counts.gt} gt)`);
  });

  it('handles the rest of the grammar: commit hashes, several suffixes, invalid tails', () => {
    const ascending = ['1.0_alpha_pre2', '1.0_alpha', '1.0_alpha1', '1.0_beta', '1.0_pre1', '1.0_rc1', '1.0', '1.0-r0', '1.0~abc', '1.0~abd', '1.0_cvs', '1.0_svn', '1.0_git20200101', '1.0_hg', '1.0_p1', '1.0a', '1.0.1'];
    for (let i = 0; i + 1 < ascending.length; i++) {
      expect(compareApkVersions(ascending[i] ?? '', ascending[i + 1] ?? ''), `${ascending[i]} < ${ascending[i + 1]}`).toBeLessThan(0);
    }
    expect(compareApkVersions('1.0', '01.0')).toBe(0); // the first part is always numeric
    expect(compareApkVersions('1.02', '1.1')).toBeLessThan(0); // "02" < "1" as strings
    expect(compareApkVersions('1.0', '1.0bc')).toBeLessThan(0); // a valid letter, then an invalid tail
    expect(compareApkVersions('23_foo', '4_beta')).toBeGreaterThan(0); // the numbers decide before the bad suffix
  });

  it('says which strings are valid apk versions', () => {
    for (const v of ['1.1.1d-r3', '0', '9.12.3_p4-r0', '1.0_alpha_pre2', '1.0~a1b2c3-r1', '2.0.0_rc4-r0']) expect(apkVersions.valid(v), v).toBe(true);
    // real secdb keys that apk-tools rejects
    for (const v of ['4.8.0.-r1', '6.6.2p1-r0', '2.7.16-33', '0.8.21.r2', '10.2.26.r0', '', 'v1.0', '1.0-r', '1.0_', '1.0_foo', '1.0~', '1.0-r1-r2', 'a']) {
      expect(apkVersions.valid(v), JSON.stringify(v)).toBe(false);
    }
  });

  it('is a consistent total order on real and hostile strings', () => {
    const real = [...alpineSecfixVersions(secdbDir).values()].flat().slice(0, 150);
    expect(orderViolations(compareApkVersions, [...real, ...GARBAGE_VERSIONS, '1.0bc', '1.0bd', '1.0b', '1.0_foo', '1.0_bar'])).toEqual([]);
  });

  it('does bounded work on huge strings', () => {
    expect(slowestHugeComparisonMs(apkVersions.compare)).toBeLessThan(3_000);
  });

});

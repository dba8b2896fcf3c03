import { describe, it, expect } from 'vitest';
import { gemVersions, inRange, satisfiesNpmRange, semverVersions } from '../versions/index.js';
import { complement, gemAdvisoryRanges, gemSuccessor, npmAdvisoryRanges, semverSuccessor, union, type Interval } from './ranges.js';

const cmp = (a: string, b: string) => semverVersions.compare(a, b);
const incl = (version: string) => ({ version, inclusive: true });
const excl = (version: string) => ({ version, inclusive: false });

describe('interval algebra', () => {
  it('union merges overlapping and touching intervals, keeps gaps', () => {
    const parts: Interval[] = [
      { lower: incl('2.0.0'), upper: excl('3.0.0') },
      { lower: incl('1.0.0'), upper: excl('2.0.0') },
      { lower: excl('3.0.0'), upper: incl('4.0.0') },
      { lower: incl('5.0.0') },
    ];
    expect(union(parts, cmp)).toEqual([
      { lower: incl('1.0.0'), upper: excl('3.0.0') }, // [1,2) + [2,3) touch
      { lower: excl('3.0.0'), upper: incl('4.0.0') }, // 3.0.0 itself is in neither
      { lower: incl('5.0.0') },
    ]);
  });

  it('complement flips every bound', () => {
    expect(complement([{ lower: incl('1.0.0'), upper: excl('2.0.0') }, { lower: excl('3.0.0') }], cmp)).toEqual([
      { upper: excl('1.0.0') },
      { lower: incl('2.0.0'), upper: incl('3.0.0') },
    ]);
    expect(complement([], cmp)).toEqual([{}]);
    expect(complement([{}], cmp)).toEqual([]);
  });
});

describe('successors', () => {
  it('SemVer: nothing sorts between a version and its successor', () => {
    expect(semverSuccessor('1.2.3')).toBe('1.2.4-0');
    expect(semverSuccessor('1.2.3-beta')).toBe('1.2.3-beta.0');
    for (const [v, next] of [['1.2.3', '1.2.4-0'], ['1.2.3-beta', '1.2.3-beta.0']] as const) {
      expect(cmp(v, next)).toBeLessThan(0);
      for (const between of ['1.2.3+build', '1.2.3-beta+x']) expect(cmp(between, next) < 0 && cmp(between, v) > 0).toBe(false);
    }
  });

  it('RubyGems: the stand-in successor is above the version and below every release after it', () => {
    const next = gemSuccessor('2.3.18.5');
    expect(gemVersions.compare(next, '2.3.18.5')).toBeGreaterThan(0);
    for (const later of ['2.3.18.5.1', '2.3.18.6', '2.3.18.6.rc1', '2.4', '3.0']) expect(gemVersions.compare(next, later)).toBeLessThan(0);
  });
});

describe('npm ranges', () => {
  it.each([
    ['<=1.5.1', '>=1.5.2', [{ introduced: '0', lastAffected: '1.5.1', fixed: '1.5.2' }], []],
    ['>= 2.0.1 <3.0.2', undefined, [{ introduced: '2.0.1', fixed: '3.0.2' }], []],
    ['>1.2.3 <2', undefined, [{ introduced: '1.2.4-0', fixed: '2.0.0' }], []],
    ['2.0.x || 2.1.x', '>=2.1.4', [{ introduced: '2.0.0', fixed: '2.1.4' }], []],
    ['1.0.0 || 1.0.2', undefined, [], ['1.0.0', '1.0.2']],
    ['*', '>=3.1.0', [{ introduced: '0', fixed: '3.1.0' }], []],
  ])('%s (patched %s)', (vulnerable, patched, ranges, versions) => {
    const out = npmAdvisoryRanges(vulnerable, patched);
    expect(out?.ranges).toEqual(ranges);
    expect(out?.versions).toEqual(versions);
    for (const v of ['0.0.1', '1.0.0', '1.0.1', '1.0.2', '1.2.3', '1.2.4', '1.5.1', '1.5.2', '2.0.0', '2.0.1', '2.1.3', '2.1.4', '3.0.1', '3.0.2', '3.1.0']) {
      const expected = satisfiesNpmRange(v, vulnerable) && !(patched !== undefined && satisfiesNpmRange(v, patched));
      const got = (out?.versions ?? []).includes(v) || (out?.ranges ?? []).some((r) => inRange(semverVersions, v, r));
      expect(got, v).toBe(expected);
    }
  });

  it('refuses text that is not an npm range', () => {
    expect(npmAdvisoryRanges('banana', undefined)).toBeNull();
    expect(npmAdvisoryRanges('x'.repeat(5000), undefined)).toBeNull();
  });
});

describe('RubyGems requirements', () => {
  it('complements patched and unaffected requirements', () => {
    const out = gemAdvisoryRanges(['~> 5.2.4, >= 5.2.4.3', '>= 6.0.3.1'], ['< 4.0']);
    expect(out).toMatchObject({
      ranges: [
        { introduced: '4.0', fixed: '5.2.4.3' },
        { introduced: '5.3', fixed: '6.0.3.1' },
      ],
      versions: [],
    });
  });

  it('`= v` and `!= v` requirements', () => {
    expect(gemAdvisoryRanges(['= 1.0.1'], [])).toMatchObject({ ranges: [{ introduced: '0', fixed: '1.0.1' }, { introduced: gemSuccessor('1.0.1') }] });
    expect(gemAdvisoryRanges(['!= 1.0.1'], [])).toMatchObject({ ranges: [], versions: ['1.0.1'] });
  });

  it('no requirement at all: every version is affected', () => {
    expect(gemAdvisoryRanges([], [])).toMatchObject({ ranges: [{ introduced: '0' }], versions: [] });
  });
});

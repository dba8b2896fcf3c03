import { describe, expect, it } from 'vitest';
import { CvssError, scoreVector, severityFromRating, severityFromScore, tryScoreVector, vectorProblem } from './index.js';

describe('scoreVector', () => {
  it('tells the version from the prefix and scores each', () => {
    expect(scoreVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toEqual({
      version: '3.1',
      score: 9.8,
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
    expect(scoreVector('CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:L')).toMatchObject({ version: '3.0', score: 4.3 });
    expect(scoreVector('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toMatchObject({ version: '4.0', score: 9.3 });
    expect(scoreVector('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toMatchObject({ version: '2.0', score: 7.5 });
  });

  it('returns the vector trimmed, and v2 in its standard form', () => {
    expect(scoreVector('  CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H\n').vector).toBe('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H');
    expect(scoreVector('(AV:N/AC:M/Au:N/C:N/I:P/A:N)')).toEqual({ version: '2.0', score: 4.3, vector: 'AV:N/AC:M/Au:N/C:N/I:P/A:N' });
  });

  it('names an unsupported version', () => {
    expect(() => scoreVector('CVSS:5.0/AV:N/AC:L')).toThrow(/unsupported CVSS version "5.0"/);
    expect(() => scoreVector('CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toThrow(/unsupported CVSS version "3.2"/);
  });
});

describe('hostile vectors', () => {
  const longMetrics = Array.from({ length: 200_000 }, () => 'AV:N').join('/');
  const hostile: [string, unknown][] = [
    ['empty', ''],
    ['blank', '   \n\t'],
    ['garbage', 'not a vector'],
    ['only a prefix', 'CVSS:3.1/'],
    ['slashes', '//////'],
    ['colons', ':::::'],
    ['a 1 MB string', 'A'.repeat(1 << 20)],
    ['a 1 MB vector of repeated metrics', `CVSS:3.1/${longMetrics}`],
    ['a base vector with every metric repeated', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['many repeats under the length limit', `CVSS:4.0/${Array.from({ length: 200 }, () => 'E:X').join('/')}`],
    ['prototype keys as metrics', 'CVSS:3.1/__proto__:N/constructor:L/toString:N/hasOwnProperty:N/S:U/C:H/I:H/A:H'],
    ['prototype key as a value', 'CVSS:3.1/AV:constructor/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['non-ASCII look-alikes', 'CVSS:3.1/AV:Ｎ/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'],
    ['a NUL byte', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\0'],
    ['a number', 9.8],
    ['null', null],
    ['undefined', undefined],
    ['an object', { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    ['an array', ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H']],
  ];

  it.each(hostile)('%s: no score, a stated reason, no throw', (_name, input) => {
    const started = performance.now();
    expect(tryScoreVector(input)).toBeUndefined();
    const problem = vectorProblem(input);
    expect(problem).toBeTypeOf('string');
    expect(problem?.length).toBeLessThan(300);
    expect(() => scoreVector(input as string)).toThrow(CvssError);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('gives no problem for a valid vector', () => {
    expect(vectorProblem('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeUndefined();
    expect(tryScoreVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')?.score).toBe(9.8);
  });

  it('says what is wrong', () => {
    expect(vectorProblem('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L')).toMatch(/metric A appears more than once/);
    expect(vectorProblem('A'.repeat(1 << 20))).toMatch(/too long/);
    expect(vectorProblem(`CVSS:3.1/${longMetrics}`)).toMatch(/too long/);
    expect(vectorProblem(`CVSS:4.0/${Array.from({ length: 200 }, () => 'E:X').join('/')}`)).toMatch(/metric E appears more than once/);
    expect(vectorProblem('CVSS:3.1/constructor:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toMatch(/unknown metric "constructor"/);
    expect(vectorProblem('CVSS:3.1/__proto__:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toMatch(/contains "_" at position 10/);
    expect(vectorProblem(null)).toMatch(/must be a string, not null/);
  });
});

describe('severityFromScore', () => {
  it.each([
    [10, 'critical'],
    [9.0, 'critical'],
    [8.9, 'high'],
    [7.0, 'high'],
    [6.9, 'moderate'],
    [4.0, 'moderate'],
    [3.9, 'low'],
    [0.1, 'low'],
    [0, 'unknown'],
    [-1, 'unknown'],
    [10.1, 'unknown'],
    [Number.NaN, 'unknown'],
    [Number.POSITIVE_INFINITY, 'unknown'],
  ] as const)('%s → %s (v3.1 and v4.0)', (score, severity) => {
    expect(severityFromScore(score, '3.1')).toBe(severity);
    expect(severityFromScore(score, '4.0')).toBe(severity);
    expect(severityFromScore(score)).toBe(severity);
  });

  it('has no critical band for CVSS v2 (NVD: High is 7.0–10.0)', () => {
    expect(severityFromScore(10, '2.0')).toBe('high');
    expect(severityFromScore(9.3, '2.0')).toBe('high');
    expect(severityFromScore(6.8, '2.0')).toBe('moderate');
    expect(severityFromScore(2.6, '2.0')).toBe('low');
  });

  it('maps computed scores end to end', () => {
    const score = (vector: string): number => scoreVector(vector).score;
    expect(severityFromScore(score('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'))).toBe('critical');
    expect(severityFromScore(score('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N'))).toBe('unknown');
  });
});

describe('severityFromRating', () => {
  it.each([
    // GitHub advisories
    ['CRITICAL', 'critical'],
    ['HIGH', 'high'],
    ['MODERATE', 'moderate'],
    ['LOW', 'low'],
    // Red Hat, SUSE, Oracle, Amazon, Alpine
    ['Critical', 'critical'],
    ['Important', 'high'],
    ['IMPORTANT', 'high'],
    ['Moderate', 'moderate'],
    ['Low', 'low'],
    // Debian urgency, Ubuntu priority, NVD/trivy
    ['high', 'high'],
    ['medium', 'moderate'],
    ['MEDIUM', 'moderate'],
    ['low', 'low'],
    ['low**', 'low'],
    ['medium*', 'moderate'],
    ['unimportant', 'low'],
    ['negligible', 'low'],
    [' High ', 'high'],
    // what no level can be drawn from
    ['not yet assigned', 'unknown'],
    ['untriaged', 'unknown'],
    ['end-of-life', 'unknown'],
    ['unknown', 'unknown'],
    ['N/A', 'unknown'],
    ['none', 'unknown'],
    ['7.5', 'unknown'],
    ['', 'unknown'],
    ['constructor', 'unknown'],
    ['__proto__', 'unknown'],
    ['critical'.repeat(100), 'unknown'],
  ] as const)('%j → %s', (rating, severity) => {
    expect(severityFromRating(rating)).toBe(severity);
  });

  it('takes missing ratings as unknown', () => {
    expect(severityFromRating(undefined)).toBe('unknown');
    expect(severityFromRating(null)).toBe('unknown');
  });
});

import { describe, expect, it } from 'vitest';
import { CvssError } from './vector.js';
import { parseCvss2, scoreCvss2 } from './cvss2.js';
import { allCombinations, hasOneDecimal, monotonicityViolations } from '../../../test/support/cvss-combinations.js';

const BASE_VALUES = [
  ['AV', ['N', 'A', 'L']],
  ['AC', ['L', 'M', 'H']],
  ['Au', ['N', 'S', 'M']],
  ['C', ['C', 'P', 'N']],
  ['I', ['C', 'P', 'N']],
  ['A', ['C', 'P', 'N']],
] as const;
const ALL_BASE_VECTORS = allCombinations(BASE_VALUES);

describe('CVSS v2 base score', () => {
  // the worked examples of "A Complete Guide to the CVSS Version 2.0", §3.3
  it.each([
    ['CVE-2002-0392 Apache chunked encoding', 'AV:N/AC:L/Au:N/C:N/I:N/A:C', 7.8],
    ['CVE-2003-0818 Microsoft ASN.1 library', 'AV:N/AC:L/Au:N/C:C/I:C/A:C', 10.0],
    ['CVE-2003-0062 NOD32 antivirus buffer overflow', 'AV:L/AC:H/Au:N/C:C/I:C/A:C', 6.2],
  ])('%s: %s scores %s', (_name, vector, score) => {
    expect(scoreCvss2(vector)).toBe(score);
  });

  it('accepts NVD’s parenthesised form, a CVSS:2.0/ prefix, any order and temporal/environmental metrics', () => {
    const score = scoreCvss2('AV:N/AC:L/Au:N/C:P/I:P/A:P');
    expect(score).toBe(7.5);
    expect(scoreCvss2('(AV:N/AC:L/Au:N/C:P/I:P/A:P)')).toBe(score);
    expect(scoreCvss2('CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBe(score);
    expect(scoreCvss2('A:P/I:P/C:P/Au:N/AC:L/AV:N')).toBe(score);
    expect(scoreCvss2('AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC/RL:OF/RC:C/CDP:LM/TD:M/CR:H/IR:ND/AR:L')).toBe(score);
    expect(parseCvss2('(AV:N/AC:L/Au:N/C:P/I:P/A:P)').normalized).toBe('AV:N/AC:L/Au:N/C:P/I:P/A:P');
  });

  it.each([
    ['AV:N/AC:L/Au:N/C:P/I:P', /missing base metric A\b/],
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P/A:P', /A appears more than once/],
    ['AV:P/AC:L/Au:N/C:P/I:P/A:P', /"P" is not a value of AV/],
    ['AV:N/AC:L/PR:N/C:P/I:P/A:P', /unknown metric "PR"/],
    ['(AV:N/AC:L/Au:N/C:P/I:P/A:P', /unbalanced parentheses/],
    ['CVSS:3.1/AV:N/AC:L/Au:N/C:P/I:P/A:P', /not a CVSS v2 vector/],
  ])('rejects %s', (vector, message) => {
    expect(() => parseCvss2(vector)).toThrow(CvssError);
    expect(() => parseCvss2(vector)).toThrow(message);
  });
});

describe(`every CVSS v2 base vector (${ALL_BASE_VECTORS.length})`, () => {
  const scores = new Map(ALL_BASE_VECTORS.map((vector) => [vector, scoreCvss2(vector)]));

  it('scores each in [0, 10] with one decimal, 0 exactly when there is no impact', () => {
    expect(scores.size).toBe(729);
    for (const [vector, score] of scores) {
      expect(score, vector).toBeGreaterThanOrEqual(0);
      expect(score, vector).toBeLessThanOrEqual(10);
      expect(hasOneDecimal(score), `${vector} → ${score}`).toBe(true);
      expect(score === 0, vector).toBe(vector.endsWith('C:N/I:N/A:N'));
    }
  });

  it('never lowers the score when one metric is made more severe', () => {
    expect(monotonicityViolations(scores, BASE_VALUES)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import macroVectorScores from './cvss4-macrovectors.json' with { type: 'json' };
import { CvssError } from './vector.js';
import { CVSS4_HIGHEST_SEVERITY, cvss4MacroVector, cvss4Score, parseCvss4, scoreCvss4 } from './cvss4.js';
import { allCombinations, hasOneDecimal, monotonicityViolations } from '../../../test/support/cvss-combinations.js';

const SCORES: Record<string, number> = macroVectorScores;

const BASE_VALUES = [
  ['AV', ['N', 'A', 'L', 'P']],
  ['AC', ['L', 'H']],
  ['AT', ['N', 'P']],
  ['PR', ['N', 'L', 'H']],
  ['UI', ['N', 'P', 'A']],
  ['VC', ['H', 'L', 'N']],
  ['VI', ['H', 'L', 'N']],
  ['VA', ['H', 'L', 'N']],
  ['SC', ['H', 'L', 'N']],
  ['SI', ['H', 'L', 'N']],
  ['SA', ['H', 'L', 'N']],
] as const;

describe('the published MacroVector scores (cvss4-macrovectors.json)', () => {
  it('has one score for each of the 270 MacroVectors', () => {
    const expected = new Set<string>();
    for (const eq1 of [0, 1, 2]) for (const eq2 of [0, 1]) for (const [eq3, eq6] of [[0, 0], [0, 1], [1, 0], [1, 1], [2, 1]]) {
      for (const eq4 of [0, 1, 2]) for (const eq5 of [0, 1, 2]) expected.add(`${eq1}${eq2}${eq3}${eq4}${eq5}${eq6}`);
    }
    expect(new Set(Object.keys(SCORES))).toEqual(expected);
    for (const [macro, score] of Object.entries(SCORES)) {
      expect(score > 0 && score <= 10 && hasOneDecimal(score), `${macro}: ${score}`).toBe(true);
    }
    expect(SCORES['000000']).toBe(10);
    expect(SCORES['212221']).toBe(0.1);
  });

  it('gives each highest-severity vector of a MacroVector exactly that MacroVector’s score', () => {
    const checked: string[] = [];
    for (const [macro, score] of Object.entries(SCORES)) {
      const [eq1, eq2, eq3, eq4, eq5, eq6] = [...macro].map(Number) as [number, number, number, number, number, number];
      for (const a of CVSS4_HIGHEST_SEVERITY.eq1[eq1] ?? []) for (const b of CVSS4_HIGHEST_SEVERITY.eq2[eq2] ?? []) {
        for (const c of CVSS4_HIGHEST_SEVERITY.eq3eq6[eq3]?.[eq6] ?? []) for (const d of CVSS4_HIGHEST_SEVERITY.eq4[eq4] ?? []) {
          for (const e of CVSS4_HIGHEST_SEVERITY.eq5[eq5] ?? []) {
            const values: Record<string, string> = { ...a, ...b, ...c, ...d, ...e };
            // Safety (S) exists only as a modified subsequent-system metric
            const safety = (metric: 'SI' | 'SA'): string => (values[metric] === 'S' ? `${metric}:H/M${metric}:S` : `${metric}:${values[metric]}`);
            const vector = `CVSS:4.0/AV:${values.AV}/AC:${values.AC}/AT:${values.AT}/PR:${values.PR}/UI:${values.UI}/VC:${values.VC}/VI:${values.VI}/VA:${values.VA}/SC:${values.SC}/${safety('SI')}/${safety('SA')}/E:${values.E}/CR:${values.CR}/IR:${values.IR}/AR:${values.AR}`;
            const parsed = parseCvss4(vector);
            expect(cvss4MacroVector(parsed, 'all'), vector).toBe(macro);
            expect(cvss4Score(parsed, 'all'), vector).toBe(score);
            checked.push(vector);
          }
        }
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(270);
  });
});

describe('CVSS v4.0 score', () => {
  it('scores no impact on any system 0.0 and the worst case 10.0', () => {
    expect(scoreCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe(0);
    expect(scoreCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H')).toBe(10);
    expect(scoreCvss4('CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')).toBe(0);
    // the least severe vector with any impact lands in the lowest base MacroVector
    expect(scoreCvss4('CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:N/SA:L')).toBeGreaterThan(0);
  });

  // Scores FIRST's reference calculator gives (cross-checked against the RedHatProductSecurity/cvss test vectors)
  it.each([
    ['AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
    ['AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.7],
    ['AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N', 6.9],
    ['AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N', 5.1],
    ['AV:N/AC:L/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H', 6.2],
    ['AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N', 2.1],
    ['AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N', 1.8],
    ['AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N', 4.0],
    ['AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:N', 9.5],
    ['AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 7.3],
  ])('CVSS:4.0/%s scores %s', (vector, score) => {
    expect(scoreCvss4(`CVSS:4.0/${vector}`)).toBe(score);
  });

  it('gives CVSS-B: threat and environmental metrics do not change the base score', () => {
    const base = 'CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H';
    expect(scoreCvss4(base)).toBe(7.3);
    expect(scoreCvss4(`${base}/E:U`)).toBe(7.3);
    expect(scoreCvss4(`${base}/E:P/CR:L/IR:L/AR:L/MAV:N/MVC:N/MSI:S`)).toBe(7.3);
  });

  it('applies threat and environmental metrics when asked for all metrics', () => {
    const base = 'CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H';
    expect(cvss4Score(parseCvss4(`${base}/E:P`), 'all')).toBe(5.9);
    expect(cvss4Score(parseCvss4(`${base}/E:U`), 'all')).toBe(4.1);
    expect(cvss4Score(parseCvss4(`${base}/CR:M/IR:M/AR:M`), 'all')).toBe(5.5);
    expect(cvss4Score(parseCvss4(`${base}/CR:L/IR:L/AR:L`), 'all')).toBe(5.4);
    expect(cvss4Score(parseCvss4(`${base}/E:X/CR:X`), 'all')).toBe(7.3);
    // modified metrics replace the base ones: this is the worst case again
    const worst = cvss4Score(parseCvss4(`${base}/MAV:N/MAC:L/MAT:N/MPR:N/MUI:N/MSI:S/MSA:S`), 'all');
    expect(worst).toBe(10);
    expect(cvss4MacroVector(parseCvss4(`${base}/MAV:N/MAC:L/MAT:N/MPR:N/MUI:N/MSI:S/MSA:S`), 'all')).toBe('000000');
  });

  it('ignores supplemental metrics, including the multi-letter Provider Urgency values', () => {
    const base = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N';
    expect(scoreCvss4(`${base}/S:P/AU:Y/R:I/V:C/RE:H/U:Amber`)).toBe(9.3);
    expect(cvss4Score(parseCvss4(`${base}/U:Clear/S:N`), 'all')).toBe(9.3);
  });

  it('accepts metrics in any order (as a real PyPI advisory writes them)', () => {
    const shuffled = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/SC:N/VI:H/SI:N/VA:H/SA:N';
    expect(scoreCvss4(shuffled)).toBe(scoreCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'));
  });

  it.each([
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N', /missing base metric SA/],
    ['CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /missing base metric AT/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/AV:N', /AV appears more than once/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N', /"S" is not a value of SI/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /"R" is not a value of UI/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:amber', /"amber" is not a value of U/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/S:U/C:H/I:H/A:H', /"U" is not a value of S/],
    ['CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /does not start with CVSS:4.0\//],
  ])('rejects %s', (vector, message) => {
    expect(() => parseCvss4(vector)).toThrow(CvssError);
    expect(() => parseCvss4(vector)).toThrow(message);
  });
});

describe('every CVSS v4.0 base vector (104,976)', () => {
  const vectors = allCombinations(BASE_VALUES);
  const scores = new Map(vectors.map((vector) => [vector, scoreCvss4(`CVSS:4.0/${vector}`)]));

  it('scores each in [0, 10] with one decimal, 0 exactly when no system is impacted', () => {
    expect(scores.size).toBe(104_976);
    const bad: string[] = [];
    for (const [vector, score] of scores) {
      const noImpact = vector.endsWith('VC:N/VI:N/VA:N/SC:N/SI:N/SA:N');
      if (!(score >= 0 && score <= 10 && hasOneDecimal(score) && (score === 0) === noImpact)) bad.push(`${vector} → ${score}`);
    }
    expect(bad).toEqual([]);
  });

  it('reaches the 36 MacroVectors a base score can have (EQ4 level 0 and EQ5 levels 1–2 need threat/environmental metrics)', () => {
    const macros = new Set(vectors.map((vector) => cvss4MacroVector(parseCvss4(`CVSS:4.0/${vector}`))));
    expect(macros.size).toBe(36);
    for (const macro of macros) {
      expect(macro).toMatch(/^[012][01][012][12]0[01]$/);
      // with CR/IR/AR at their default High, EQ6 is 0 exactly when some vulnerable-system impact is High
      expect(['00', '10', '21']).toContain(`${macro[2]}${macro[5]}`);
    }
  });

  it('never lowers the score when one metric is made more severe', () => {
    expect(monotonicityViolations(scores, BASE_VALUES)).toEqual([]);
  });
});

/**
 * CVSS v4.0 scores (FIRST, "CVSS v4.0 Specification Document" §8). v4 has no formula: every vector falls into one of
 * 270 MacroVectors (its levels on the six equivalence sets EQ1–EQ6), each MacroVector has an expert-assigned score
 * (`cvss4-macrovectors.json`), and a vector scores below its MacroVector's score in proportion to how far it sits
 * from the MacroVector's highest-severity vectors, towards the next lower MacroVector on each equivalence set.
 *
 * `scoreCvss4` gives CVSS-B, the base score: threat and environmental metrics in the vector are ignored (Exploit
 * Maturity counts as Attacked, the security requirements as High), which is what a vulnerability scanner reports.
 * `cvss4Score(vector, 'all')` also applies them (CVSS-BT / CVSS-BE / CVSS-BTE).
 *
 * The arithmetic is exact: scores are whole tenths, severity distances whole steps, so the interpolated score is a
 * rational number computed with integers and rounded half up. The reference calculator reaches the same result in
 * floating point by adding an epsilon before rounding.
 */
import macroVectorScores from './cvss4-macrovectors.json' with { type: 'json' };
import { CvssError, checkVectorText, excerpt, parseMetrics, type MetricDefinitions } from './vector.js';

const BASE_METRICS = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'] as const;

const METRICS: MetricDefinitions = {
  // base (specification Table 23)
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  // threat
  E: ['X', 'A', 'P', 'U'],
  // environmental
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  // supplemental: never part of any score
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};

export interface Cvss4Vector {
  /** Every metric the vector gives, as written. */
  metrics: ReadonlyMap<string, string>;
}

/** Which metrics a score takes into account: the base metrics only (CVSS-B), or all that the vector gives. */
export type Cvss4Metrics = 'base' | 'all';

/** Parses a `CVSS:4.0/…` vector. Metrics may come in any order. Throws `CvssError` saying what is wrong. */
export function parseCvss4(vector: string): Cvss4Vector {
  const text = checkVectorText(vector);
  if (!text.startsWith('CVSS:4.0/')) throw new CvssError(`${excerpt(text)} does not start with CVSS:4.0/`);
  return { metrics: parseMetrics(text.slice('CVSS:4.0/'.length), 'CVSS 4.0 vector', METRICS, BASE_METRICS) };
}

/** The metrics that take part in scoring, each reduced to the one value scoring uses. */
type ScoringMetric = (typeof BASE_METRICS)[number] | 'E' | 'CR' | 'IR' | 'AR';

/**
 * The value scoring uses for a metric. Not-defined threat and requirement metrics take their worst case (E:A, CR/IR/AR:H);
 * with `all`, a defined modified metric (MAV, MSI, …) replaces its base metric.
 */
function effectiveValue(vector: Cvss4Vector, metric: ScoringMetric, use: Cvss4Metrics): string {
  if (metric === 'E') {
    const value = use === 'all' ? vector.metrics.get('E') : undefined;
    return value === undefined || value === 'X' ? 'A' : value;
  }
  if (metric === 'CR' || metric === 'IR' || metric === 'AR') {
    const value = use === 'all' ? vector.metrics.get(metric) : undefined;
    return value === undefined || value === 'X' ? 'H' : value;
  }
  if (use === 'all') {
    const modified = vector.metrics.get(`M${metric}`);
    if (modified !== undefined && modified !== 'X') return modified;
  }
  const value = vector.metrics.get(metric);
  // parseCvss4 guarantees every base metric; a hand-built Cvss4Vector might not have one
  if (value === undefined) throw new CvssError(`CVSS 4.0 vector: missing base metric ${metric}`);
  return value;
}

type Values = Record<ScoringMetric, string>;

function scoringValues(vector: Cvss4Vector, use: Cvss4Metrics): Values {
  const metrics: ScoringMetric[] = [...BASE_METRICS, 'E', 'CR', 'IR', 'AR'];
  return Object.fromEntries(metrics.map((m) => [m, effectiveValue(vector, m, use)])) as Values;
}

/** The six equivalence-set levels, e.g. `[0, 1, 1, 2, 0, 0]`; specification Table 24. */
function equivalenceLevels(v: Values): [number, number, number, number, number, number] {
  const eq1 = v.AV === 'N' && v.PR === 'N' && v.UI === 'N' ? 0 : (v.AV === 'N' || v.PR === 'N' || v.UI === 'N') && v.AV !== 'P' ? 1 : 2;
  const eq2 = v.AC === 'L' && v.AT === 'N' ? 0 : 1;
  const eq3 = v.VC === 'H' && v.VI === 'H' ? 0 : v.VC === 'H' || v.VI === 'H' || v.VA === 'H' ? 1 : 2;
  // SI/SA can only be S (Safety) through MSI/MSA
  const eq4 = v.SI === 'S' || v.SA === 'S' ? 0 : v.SC === 'H' || v.SI === 'H' || v.SA === 'H' ? 1 : 2;
  const eq5 = v.E === 'A' ? 0 : v.E === 'P' ? 1 : 2;
  const eq6 = (v.CR === 'H' && v.VC === 'H') || (v.IR === 'H' && v.VI === 'H') || (v.AR === 'H' && v.VA === 'H') ? 0 : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

/** The MacroVector of a vector: its six equivalence-set levels as a string, e.g. `011200`. */
export function cvss4MacroVector(vector: Cvss4Vector, use: Cvss4Metrics = 'base'): string {
  return equivalenceLevels(scoringValues(vector, use)).join('');
}

const MACRO_VECTOR_SCORES: Readonly<Record<string, number>> = macroVectorScores;

/** A MacroVector's score in tenths (9.3 → 93), or undefined for a level combination that does not exist. */
function macroVectorTenths(levels: readonly number[]): number | undefined {
  const score = MACRO_VECTOR_SCORES[levels.join('')];
  return score === undefined ? undefined : Math.round(score * 10);
}

/**
 * Severity of each metric value in steps from the most severe (0). Severity distances between a vector and a
 * highest-severity vector are differences of these.
 */
const SEVERITY_STEPS: Record<ScoringMetric, Readonly<Record<string, number>>> = {
  AV: { N: 0, A: 1, L: 2, P: 3 },
  PR: { N: 0, L: 1, H: 2 },
  UI: { N: 0, P: 1, A: 2 },
  AC: { L: 0, H: 1 },
  AT: { N: 0, P: 1 },
  VC: { H: 0, L: 1, N: 2 },
  VI: { H: 0, L: 1, N: 2 },
  VA: { H: 0, L: 1, N: 2 },
  SC: { H: 1, L: 2, N: 3 },
  SI: { S: 0, H: 1, L: 2, N: 3 },
  SA: { S: 0, H: 1, L: 2, N: 3 },
  CR: { H: 0, M: 1, L: 2 },
  IR: { H: 0, M: 1, L: 2 },
  AR: { H: 0, M: 1, L: 2 },
  E: { A: 0, P: 1, U: 2 },
};

/** Some of the scoring metrics with a value each: one part of a highest-severity vector. */
type MetricValues = Readonly<Partial<Record<ScoringMetric, string>>>;

/**
 * The highest-severity vectors of each equivalence-set level (for EQ3 jointly with EQ6), in the order the reference
 * calculator tries them; FIRST cvss-v4-calculator `max_composed.js`.
 */
export const CVSS4_HIGHEST_SEVERITY: {
  eq1: readonly (readonly MetricValues[])[];
  eq2: readonly (readonly MetricValues[])[];
  eq3eq6: readonly (readonly (readonly MetricValues[])[])[];
  eq4: readonly (readonly MetricValues[])[];
  eq5: readonly (readonly MetricValues[])[];
} = {
  eq1: [
    [{ AV: 'N', PR: 'N', UI: 'N' }],
    [{ AV: 'A', PR: 'N', UI: 'N' }, { AV: 'N', PR: 'L', UI: 'N' }, { AV: 'N', PR: 'N', UI: 'P' }],
    [{ AV: 'P', PR: 'N', UI: 'N' }, { AV: 'A', PR: 'L', UI: 'P' }],
  ],
  eq2: [[{ AC: 'L', AT: 'N' }], [{ AC: 'H', AT: 'N' }, { AC: 'L', AT: 'P' }]],
  eq3eq6: [
    [
      [{ VC: 'H', VI: 'H', VA: 'H', CR: 'H', IR: 'H', AR: 'H' }],
      [{ VC: 'H', VI: 'H', VA: 'L', CR: 'M', IR: 'M', AR: 'H' }, { VC: 'H', VI: 'H', VA: 'H', CR: 'M', IR: 'M', AR: 'M' }],
    ],
    [
      [{ VC: 'L', VI: 'H', VA: 'H', CR: 'H', IR: 'H', AR: 'H' }, { VC: 'H', VI: 'L', VA: 'H', CR: 'H', IR: 'H', AR: 'H' }],
      [
        { VC: 'L', VI: 'H', VA: 'L', CR: 'H', IR: 'M', AR: 'H' },
        { VC: 'L', VI: 'H', VA: 'H', CR: 'H', IR: 'M', AR: 'M' },
        { VC: 'H', VI: 'L', VA: 'H', CR: 'M', IR: 'H', AR: 'M' },
        { VC: 'H', VI: 'L', VA: 'L', CR: 'M', IR: 'H', AR: 'H' },
        { VC: 'L', VI: 'L', VA: 'H', CR: 'H', IR: 'H', AR: 'M' },
      ],
    ],
    [[], [{ VC: 'L', VI: 'L', VA: 'L', CR: 'H', IR: 'H', AR: 'H' }]],
  ],
  eq4: [[{ SC: 'H', SI: 'S', SA: 'S' }], [{ SC: 'H', SI: 'H', SA: 'H' }], [{ SC: 'L', SI: 'L', SA: 'L' }]],
  eq5: [[{ E: 'A' }], [{ E: 'P' }], [{ E: 'U' }]],
};

/**
 * The depth of each equivalence-set level: the largest severity distance (in steps, plus one) between a vector of
 * that level and its highest-severity vector; FIRST cvss-v4-calculator `max_severity.js`.
 */
const DEPTH = {
  eq1: [1, 4, 5],
  eq2: [1, 2],
  eq3eq6: [[7, 6], [8, 8], [undefined, 10]],
  eq4: [6, 5, 4],
} as const;

const DISTANCE_METRICS: readonly ScoringMetric[] = ['AV', 'PR', 'UI', 'AC', 'AT', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA', 'CR', 'IR', 'AR'];

/** Severity distances (in steps) of the vector from the first highest-severity vector of its MacroVector it does not exceed. */
function distancesFromHighest(v: Values, levels: readonly number[]): Record<ScoringMetric, number> {
  const [eq1, eq2, eq3, eq4, eq5, eq6] = levels as [number, number, number, number, number, number];
  const distancesTo = (highest: MetricValues): Record<ScoringMetric, number> => {
    const result = {} as Record<ScoringMetric, number>;
    for (const metric of DISTANCE_METRICS) {
      const steps = SEVERITY_STEPS[metric];
      result[metric] = (steps[v[metric]] ?? 0) - (steps[highest[metric] ?? ''] ?? 0);
    }
    return result;
  };
  let last: Record<ScoringMetric, number> | undefined;
  for (const a of CVSS4_HIGHEST_SEVERITY.eq1[eq1] ?? []) {
    for (const b of CVSS4_HIGHEST_SEVERITY.eq2[eq2] ?? []) {
      for (const c of CVSS4_HIGHEST_SEVERITY.eq3eq6[eq3]?.[eq6] ?? []) {
        for (const d of CVSS4_HIGHEST_SEVERITY.eq4[eq4] ?? []) {
          for (const e of CVSS4_HIGHEST_SEVERITY.eq5[eq5] ?? []) {
            const distances = distancesTo({ ...a, ...b, ...c, ...d, ...e });
            if (DISTANCE_METRICS.every((m) => distances[m] >= 0)) return distances;
            last = distances;
          }
        }
      }
    }
  }
  // Every vector has a highest-severity vector at or above it in the published data; should none fit, the reference
  // calculator keeps the distances to the last one tried, and so does this.
  if (!last) throw new CvssError(`CVSS 4.0: no highest-severity vectors for MacroVector ${levels.join('')}`);
  return last;
}

/** The score, 0.0–10.0 with one decimal, of a parsed v4.0 vector: CVSS-B with `base`, all given metrics with `all`. */
export function cvss4Score(vector: Cvss4Vector, use: Cvss4Metrics = 'base'): number {
  const v = scoringValues(vector, use);
  if (v.VC === 'N' && v.VI === 'N' && v.VA === 'N' && v.SC === 'N' && v.SI === 'N' && v.SA === 'N') return 0;

  const levels = equivalenceLevels(v);
  const [eq1, eq2, eq3, eq4, , eq6] = levels;
  const macroTenths = macroVectorTenths(levels);
  if (macroTenths === undefined) throw new CvssError(`CVSS 4.0: MacroVector ${levels.join('')} has no published score`);

  const lower = (changes: Record<number, number>): number | undefined =>
    macroVectorTenths(levels.map((level, i) => level + (changes[i] ?? 0)));
  // EQ3 and EQ6 step down together: 00 → the higher of 01 and 10; 01 → 11; 10 → 11; 11 → 21; 21 → none
  let lowerEq3eq6: number | undefined;
  if (eq3 === 0 && eq6 === 0) {
    const left = lower({ 5: 1 });
    const right = lower({ 2: 1 });
    lowerEq3eq6 = left === undefined ? right : right === undefined ? left : Math.max(left, right);
  } else if (eq3 === 1 && eq6 === 0) {
    lowerEq3eq6 = lower({ 5: 1 });
  } else {
    lowerEq3eq6 = lower({ 2: 1 });
  }

  const distance = distancesFromHighest(v, levels);
  const eq3eq6Depth = DEPTH.eq3eq6[eq3]?.[eq6];
  // each equivalence set: [score of the next lower MacroVector, severity distance, depth]
  const sets: [number | undefined, number, number | undefined][] = [
    [lower({ 0: 1 }), distance.AV + distance.PR + distance.UI, DEPTH.eq1[eq1]],
    [lower({ 1: 1 }), distance.AC + distance.AT, DEPTH.eq2[eq2]],
    [lowerEq3eq6, distance.VC + distance.VI + distance.VA + distance.CR + distance.IR + distance.AR, eq3eq6Depth],
    [lower({ 3: 1 }), distance.SC + distance.SI + distance.SA, DEPTH.eq4[eq4]],
    // EQ5 has depth zero: it counts towards the mean but never moves the score
    [lower({ 4: 1 }), 0, 1],
  ];

  // score = macro − mean over existing lower MacroVectors of (macro − lower) × distance / depth, as one fraction
  const COMMON_DENOMINATOR = 840; // divisible by every depth (1, 2, 4, 5, 6, 7, 8, 10)
  let existing = 0;
  let proportionalSum = 0; // in tenths × COMMON_DENOMINATOR
  for (const [lowerTenths, steps, depth] of sets) {
    if (lowerTenths === undefined) continue;
    if (depth === undefined) throw new CvssError(`CVSS 4.0: no depth for MacroVector ${levels.join('')}`);
    existing++;
    proportionalSum += (macroTenths - lowerTenths) * steps * (COMMON_DENOMINATOR / depth);
  }
  const denominator = COMMON_DENOMINATOR * Math.max(existing, 1);
  const numerator = macroTenths * denominator - proportionalSum;
  const clamped = Math.min(Math.max(numerator, 0), 100 * denominator);
  // round half up to whole tenths
  return Math.floor((2 * clamped + denominator) / (2 * denominator)) / 10;
}

/** Parses a v4.0 vector and returns its CVSS-B score. Throws `CvssError` on a malformed vector. */
export function scoreCvss4(vector: string): number {
  return cvss4Score(parseCvss4(vector), 'base');
}

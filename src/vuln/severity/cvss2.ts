/**
 * CVSS v2 base scores (FIRST, "A Complete Guide to the Common Vulnerability Scoring System Version 2.0" §3.2.1), for
 * old advisories that carry nothing newer. v2 vectors have no version prefix: `AV:N/AC:L/Au:N/C:P/I:P/A:P`. NVD's
 * older form in parentheses, `(AV:N/…)`, and a non-standard `CVSS:2.0/` prefix some tools add are accepted too.
 */
import { CvssError, checkVectorText, excerpt, parseMetrics, type MetricDefinitions } from './vector.js';

export interface Cvss2BaseMetrics {
  /** Access Vector: Local, Adjacent network, Network. */
  AV: 'L' | 'A' | 'N';
  /** Access Complexity: High, Medium, Low. */
  AC: 'H' | 'M' | 'L';
  /** Authentication: Multiple, Single, None. */
  Au: 'M' | 'S' | 'N';
  /** Confidentiality, Integrity, Availability impact: None, Partial, Complete. */
  C: 'N' | 'P' | 'C';
  I: 'N' | 'P' | 'C';
  A: 'N' | 'P' | 'C';
}

export interface Cvss2Vector {
  base: Cvss2BaseMetrics;
  /** The vector in its standard form: no parentheses, no prefix. */
  normalized: string;
  metrics: ReadonlyMap<string, string>;
}

const BASE_METRICS = ['AV', 'AC', 'Au', 'C', 'I', 'A'] as const;

const METRICS: MetricDefinitions = {
  AV: ['L', 'A', 'N'],
  AC: ['H', 'M', 'L'],
  Au: ['M', 'S', 'N'],
  C: ['N', 'P', 'C'],
  I: ['N', 'P', 'C'],
  A: ['N', 'P', 'C'],
  // temporal
  E: ['U', 'POC', 'F', 'H', 'ND'],
  RL: ['OF', 'TF', 'W', 'U', 'ND'],
  RC: ['UC', 'UR', 'C', 'ND'],
  // environmental
  CDP: ['N', 'L', 'LM', 'MH', 'H', 'ND'],
  TD: ['N', 'L', 'M', 'H', 'ND'],
  CR: ['L', 'M', 'H', 'ND'],
  IR: ['L', 'M', 'H', 'ND'],
  AR: ['L', 'M', 'H', 'ND'],
};

// metric value weights, guide §3.2.1
const ACCESS_VECTOR = { L: 0.395, A: 0.646, N: 1.0 } as const;
const ACCESS_COMPLEXITY = { H: 0.35, M: 0.61, L: 0.71 } as const;
const AUTHENTICATION = { M: 0.45, S: 0.56, N: 0.704 } as const;
const IMPACT = { N: 0, P: 0.275, C: 0.66 } as const;

/** Parses a v2 vector. Throws `CvssError` saying what is wrong. */
export function parseCvss2(vector: string): Cvss2Vector {
  let text = checkVectorText(vector);
  if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1);
  if (text.startsWith('CVSS:2.0/')) text = text.slice('CVSS:2.0/'.length);
  if (text.startsWith('CVSS:')) throw new CvssError(`${excerpt(text)} is not a CVSS v2 vector`);
  if (/[()]/.test(text)) throw new CvssError(`CVSS v2 vector ${excerpt(text)} has unbalanced parentheses`);
  const metrics = parseMetrics(text, 'CVSS 2.0 vector', METRICS, BASE_METRICS);
  const base = Object.fromEntries(BASE_METRICS.map((name) => [name, metrics.get(name)])) as unknown as Cvss2BaseMetrics;
  return { base, normalized: text, metrics };
}

/** Rounds to one decimal, half up, after absorbing binary floating-point error well below 0.00001. */
function roundToOneDecimal(value: number): number {
  return Math.floor(Math.round(value * 100_000) / 10_000 + 0.5) / 10;
}

/** The base score, 0.0–10.0 with one decimal, per the v2 base equation. */
export function cvss2BaseScore(vector: Cvss2Vector): number {
  const { base } = vector;
  const impact = 10.41 * (1 - (1 - IMPACT[base.C]) * (1 - IMPACT[base.I]) * (1 - IMPACT[base.A]));
  const exploitability = 20 * ACCESS_VECTOR[base.AV] * ACCESS_COMPLEXITY[base.AC] * AUTHENTICATION[base.Au];
  const impactFactor = impact === 0 ? 0 : 1.176;
  const score = (0.6 * impact + 0.4 * exploitability - 1.5) * impactFactor;
  return roundToOneDecimal(Math.max(0, score));
}

/** Parses a v2 vector and returns its base score. Throws `CvssError` on a malformed vector. */
export function scoreCvss2(vector: string): number {
  return cvss2BaseScore(parseCvss2(vector));
}

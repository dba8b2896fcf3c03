/**
 * CVSS v3.0 and v3.1 base scores (FIRST, "CVSS v3.1 Specification Document" §7.1 and Appendix A; the v3.0 document
 * §8.1). The two versions share the base equations; v3.1 only replaced the informal "round up" with `roundUp` below.
 * Temporal and environmental metrics are parsed and checked but do not affect the base score.
 */
import { CvssError, checkVectorText, excerpt, parseMetrics, type MetricDefinitions } from './vector.js';

export type Cvss3Version = '3.0' | '3.1';

export interface Cvss3BaseMetrics {
  /** Attack Vector: Network, Adjacent, Local, Physical. */
  AV: 'N' | 'A' | 'L' | 'P';
  /** Attack Complexity: Low, High. */
  AC: 'L' | 'H';
  /** Privileges Required: None, Low, High. */
  PR: 'N' | 'L' | 'H';
  /** User Interaction: None, Required. */
  UI: 'N' | 'R';
  /** Scope: Unchanged, Changed. */
  S: 'U' | 'C';
  /** Confidentiality, Integrity, Availability impact: High, Low, None. */
  C: 'H' | 'L' | 'N';
  I: 'H' | 'L' | 'N';
  A: 'H' | 'L' | 'N';
}

export interface Cvss3Vector {
  version: Cvss3Version;
  base: Cvss3BaseMetrics;
  /** Every metric the vector gives, base, temporal and environmental, as written. */
  metrics: ReadonlyMap<string, string>;
}

const BASE_METRICS = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;

const METRICS: MetricDefinitions = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: ['H', 'L', 'N'],
  I: ['H', 'L', 'N'],
  A: ['H', 'L', 'N'],
  // temporal
  E: ['X', 'H', 'F', 'P', 'U'],
  RL: ['X', 'U', 'W', 'T', 'O'],
  RC: ['X', 'C', 'R', 'U'],
  // environmental
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'R'],
  MS: ['X', 'U', 'C'],
  MC: ['X', 'H', 'L', 'N'],
  MI: ['X', 'H', 'L', 'N'],
  MA: ['X', 'H', 'L', 'N'],
};

// metric value weights, specification Table 16 (v3.1) / Table 14 (v3.0)
const ATTACK_VECTOR = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 } as const;
const ATTACK_COMPLEXITY = { L: 0.77, H: 0.44 } as const;
const PRIVILEGES_SCOPE_UNCHANGED = { N: 0.85, L: 0.62, H: 0.27 } as const;
const PRIVILEGES_SCOPE_CHANGED = { N: 0.85, L: 0.68, H: 0.5 } as const;
const USER_INTERACTION = { N: 0.85, R: 0.62 } as const;
const IMPACT = { H: 0.56, L: 0.22, N: 0 } as const;

/** Parses a `CVSS:3.0/…` or `CVSS:3.1/…` vector. Throws `CvssError` saying what is wrong. */
export function parseCvss3(vector: string): Cvss3Vector {
  const text = checkVectorText(vector);
  const prefix = /^CVSS:3\.([01])\//.exec(text);
  if (!prefix) throw new CvssError(`${excerpt(text)} does not start with CVSS:3.0/ or CVSS:3.1/`);
  const version: Cvss3Version = prefix[1] === '0' ? '3.0' : '3.1';
  const metrics = parseMetrics(text.slice(prefix[0].length), `CVSS ${version} vector`, METRICS, BASE_METRICS);
  const base = Object.fromEntries(BASE_METRICS.map((name) => [name, metrics.get(name)])) as unknown as Cvss3BaseMetrics;
  return { version, base, metrics };
}

/**
 * The v3.1 `Roundup`: the smallest number with one decimal that is ≥ the input. Working on the input scaled to an
 * integer first keeps binary floating point from pushing e.g. 4.000000000000001 up to 4.1 (spec Appendix A).
 */
export function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  if (scaled % 10_000 === 0) return scaled / 100_000;
  return (Math.floor(scaled / 10_000) + 1) / 10;
}

/** The base score, 0.0–10.0 with one decimal, per the specification's base equations. */
export function cvss3BaseScore(vector: Cvss3Vector): number {
  const { base } = vector;
  const scopeChanged = base.S === 'C';
  const impactSubScore = 1 - (1 - IMPACT[base.C]) * (1 - IMPACT[base.I]) * (1 - IMPACT[base.A]);
  const impact = scopeChanged
    ? 7.52 * (impactSubScore - 0.029) - 3.25 * Math.pow(impactSubScore - 0.02, 15)
    : 6.42 * impactSubScore;
  if (impact <= 0) return 0;
  const privileges = (scopeChanged ? PRIVILEGES_SCOPE_CHANGED : PRIVILEGES_SCOPE_UNCHANGED)[base.PR];
  const exploitability = 8.22 * ATTACK_VECTOR[base.AV] * ATTACK_COMPLEXITY[base.AC] * privileges * USER_INTERACTION[base.UI];
  return scopeChanged
    ? roundUp(Math.min(1.08 * (impact + exploitability), 10))
    : roundUp(Math.min(impact + exploitability, 10));
}

/** Parses a v3.0/v3.1 vector and returns its base score. Throws `CvssError` on a malformed vector. */
export function scoreCvss3(vector: string): number {
  return cvss3BaseScore(parseCvss3(vector));
}

/**
 * Severity of a vulnerability, from a CVSS vector (v2, v3.0, v3.1, v4.0) or from the rating word a feed gives, in
 * Detonate's levels (DESIGN.md §4): critical, high, moderate, low, unknown. Detonate says "moderate" where CVSS says
 * "Medium", as GitHub advisories do.
 *
 *   scoreVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')   // { version: '3.1', score: 9.8, vector: '…' }
 *   severityFromScore(9.8, '3.1')                                 // 'critical'
 *   severityFromRating('Important')                               // 'high'
 */
import type { VulnerabilitySeverity } from '../../model/index.js';
import { parseCvss2, cvss2BaseScore } from './cvss2.js';
import { parseCvss3, cvss3BaseScore } from './cvss3.js';
import { parseCvss4, cvss4Score } from './cvss4.js';
import { CvssError, checkVectorText } from './vector.js';
import { MAX_SEVERITY_RATING_CHARS } from '../limits.js';

export { CvssError } from './vector.js';
export { MAX_CVSS_VECTOR_CHARS } from '../limits.js';
export { parseCvss2, cvss2BaseScore, scoreCvss2, type Cvss2Vector, type Cvss2BaseMetrics } from './cvss2.js';
export { parseCvss3, cvss3BaseScore, scoreCvss3, roundUp, type Cvss3Vector, type Cvss3BaseMetrics, type Cvss3Version } from './cvss3.js';
export { parseCvss4, cvss4Score, cvss4MacroVector, scoreCvss4, type Cvss4Vector, type Cvss4Metrics } from './cvss4.js';

export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';

export interface ScoredVector {
  version: CvssVersion;
  /** The base score (CVSS-B for v4.0), 0.0–10.0 with one decimal. */
  score: number;
  /** The vector as scored: surrounding whitespace removed, and for v2 without parentheses or prefix. */
  vector: string;
}

/**
 * Scores a CVSS vector of any supported version, told apart by its prefix (`CVSS:3.1/`, `CVSS:4.0/`, none for v2).
 * Throws `CvssError` saying what is wrong with a malformed or unsupported vector.
 */
export function scoreVector(vector: string): ScoredVector {
  const text = checkVectorText(vector);
  const version = /^CVSS:([^/]{0,16})\//.exec(text)?.[1];
  if (version === '4.0') return { version: '4.0', score: cvss4Score(parseCvss4(text), 'base'), vector: text };
  if (version === '3.0' || version === '3.1') {
    const parsed = parseCvss3(text);
    return { version: parsed.version, score: cvss3BaseScore(parsed), vector: text };
  }
  if (version !== undefined && version !== '2.0') throw new CvssError(`unsupported CVSS version ${JSON.stringify(version)}`);
  const parsed = parseCvss2(text);
  return { version: '2.0', score: cvss2BaseScore(parsed), vector: parsed.normalized };
}

/** `scoreVector` for untrusted input: the scored vector, or undefined for anything that is not a valid vector. Never throws. */
export function tryScoreVector(vector: unknown): ScoredVector | undefined {
  try {
    return scoreVector(vector as string);
  } catch {
    return undefined;
  }
}

/** Why a vector cannot be scored, or undefined when it can. Never throws. */
export function vectorProblem(vector: unknown): string | undefined {
  try {
    scoreVector(vector as string);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Detonate's level for a CVSS score, by the specification's qualitative rating scale: 9.0–10.0 critical, 7.0–8.9
 * high, 4.0–6.9 moderate, 0.1–3.9 low; 0.0 (no impact), and anything that is not a score, unknown. CVSS v2 has no
 * critical band (NVD: 7.0–10.0 High), so a v2 score is at most high.
 */
export function severityFromScore(score: number, version: CvssVersion = '3.1'): VulnerabilitySeverity {
  if (typeof score !== 'number' || !Number.isFinite(score) || score <= 0 || score > 10) return 'unknown';
  if (score >= 9 && version !== '2.0') return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'moderate';
  return 'low';
}

/**
 * Ratings as feeds write them, lower case, to Detonate's levels. GHSA: CRITICAL/HIGH/MODERATE/LOW; Red Hat, SUSE,
 * Alpine, Oracle, Amazon: Critical/Important/Moderate(Medium)/Low; Debian urgency: high/medium/low/unimportant;
 * Ubuntu priority: critical/high/medium/low/negligible; trivy/NVD: CRITICAL/HIGH/MEDIUM/LOW.
 */
const RATINGS: Readonly<Record<string, VulnerabilitySeverity>> = {
  critical: 'critical',
  high: 'high',
  important: 'high',
  moderate: 'moderate',
  medium: 'moderate',
  low: 'low',
  negligible: 'low',
  unimportant: 'low',
};

/**
 * Detonate's level for a source's own rating word, case and surrounding space ignored, as is the `*`/`**` Debian
 * appends to urgencies it has not confirmed. Anything else ("not yet assigned", "untriaged", "end-of-life", "N/A",
 * "unknown", a number …) is unknown.
 */
export function severityFromRating(text: string | null | undefined): VulnerabilitySeverity {
  if (typeof text !== 'string' || text.length > MAX_SEVERITY_RATING_CHARS) return 'unknown';
  const word = text.trim().replace(/\*+$/, '').trim().toLowerCase();
  return Object.hasOwn(RATINGS, word) ? (RATINGS[word] ?? 'unknown') : 'unknown';
}

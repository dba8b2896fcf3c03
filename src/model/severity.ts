/**
 * Severities and their one ordering. Findings use `Severity`; vulnerabilities use `VulnerabilitySeverity` (an
 * advisory may have none: `unknown`). Every list, sort and threshold in Detonate is read from here.
 */

/** Worst first. */
export const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Worst first. */
export const VULNERABILITY_SEVERITIES = ['critical', 'high', 'moderate', 'low', 'unknown'] as const;
export type VulnerabilitySeverity = (typeof VULNERABILITY_SEVERITIES)[number];

/** Every severity of either kind, worst first (for display: `info` and `unknown` weigh the same, last). */
export const DISPLAY_SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info', 'unknown'] as const;
export type AnySeverity = (typeof DISPLAY_SEVERITIES)[number];

const WEIGHT: Readonly<Record<AnySeverity, number>> = { critical: 4, high: 3, moderate: 2, low: 1, info: 0, unknown: 0 };

/** How severe: critical 4 … low 1, info and unknown 0; anything else (hostile input) -1. */
export function severityWeight(severity: string): number {
  return Object.prototype.hasOwnProperty.call(WEIGHT, severity) ? WEIGHT[severity as AnySeverity] : -1;
}

/** A comparator that sorts worst first. */
export function worstFirst(a: string, b: string): number {
  return severityWeight(b) - severityWeight(a);
}

/** True when `severity` is `threshold` or worse. */
export function atLeast(severity: string, threshold: AnySeverity): boolean {
  return severityWeight(severity) >= WEIGHT[threshold];
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

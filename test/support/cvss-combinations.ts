/** Helpers shared by the severity tests: enumerating every combination of metric values. */

/** Every combination of the given metrics' values, as `M:V/M:V/…` in the order given. */
export function allCombinations(metrics: readonly (readonly [string, readonly string[]])[]): string[] {
  let combos = [''];
  for (const [name, values] of metrics) {
    combos = combos.flatMap((prefix) => values.map((value) => `${prefix}${prefix ? '/' : ''}${name}:${value}`));
  }
  return combos;
}

const metricPatterns = new Map<string, RegExp>();

/** The vector with one metric's value replaced. */
export function withMetric(vector: string, name: string, value: string): string {
  let pattern = metricPatterns.get(name);
  if (!pattern) metricPatterns.set(name, (pattern = new RegExp(`(^|/)${name}:[A-Za-z]+`)));
  return vector.replace(pattern, `$1${name}:${value}`);
}

/** The value of one metric in `M:V/M:V/…`, or '' when absent. */
export function metricValue(vector: string, name: string): string {
  for (const component of vector.split('/')) {
    const [metric, value] = component.split(':');
    if (metric === name) return value ?? '';
  }
  return '';
}

/** Has at most one decimal: 7.5, 10, 0 yes; 7.55 no. */
export function hasOneDecimal(score: number): boolean {
  return Math.abs(score * 10 - Math.round(score * 10)) < 1e-9;
}

/**
 * Pairs (vector → a vector one metric made more severe) whose score went down. `scores` holds every combination of
 * `metrics`, written in that order, each metric's values listed from most to least severe.
 */
export function monotonicityViolations(scores: ReadonlyMap<string, number>, metrics: readonly (readonly [string, readonly string[]])[]): string[] {
  const violations: string[] = [];
  for (const [vector, score] of scores) {
    const parts = vector.split('/');
    metrics.forEach(([name, values], index) => {
      const current = values.indexOf(parts[index]?.slice(name.length + 1) ?? '');
      for (const worse of values.slice(0, Math.max(current, 0))) {
        const raised = [...parts.slice(0, index), `${name}:${worse}`, ...parts.slice(index + 1)].join('/');
        const raisedScore = scores.get(raised);
        if (raisedScore === undefined || raisedScore < score) violations.push(`${vector} (${score}) → ${raised} (${raisedScore})`);
      }
    });
  }
  return violations;
}

/**
 * Splitting a CVSS vector string into its metrics, shared by the v2, v3 and v4 parsers. Input comes from advisory
 * feeds and is untrusted: every bound here is checked before any work proportional to the input is done.
 */
import { MAX_CVSS_VECTOR_CHARS } from '../limits.js';

/** A malformed, unknown or unsupported CVSS vector. The message says what is wrong and where. */
export class CvssError extends Error {
  override readonly name = 'CvssError';
}

/** Allowed values of each metric the version defines, keyed by metric abbreviation. */
export type MetricDefinitions = Readonly<Record<string, readonly string[]>>;

/** A shortened copy of untrusted text for error messages. */
export function excerpt(text: string, max = 40): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(shown);
}

/**
 * Parses `M1:V1/M2:V2/…` (the part after any `CVSS:x.y/` prefix) into a metric → value map. Metrics may come in any
 * order; each may appear once. Every metric must be one the version defines, with one of its values, and every
 * metric in `required` must be present. A single trailing `/` is tolerated.
 */
export function parseMetrics(vectorBody: string, label: string, definitions: MetricDefinitions, required: readonly string[]): Map<string, string> {
  // one trailing slash is a slip seen in real advisories (e.g. GHSA-f5pg-7wfw-84q9), not an ambiguity
  const body = vectorBody.endsWith('/') && !vectorBody.endsWith('//') ? vectorBody.slice(0, -1) : vectorBody;
  if (body === '') throw new CvssError(`${label}: no metrics`);
  const maxComponents = Object.keys(definitions).length;
  const metrics = new Map<string, string>();
  let start = 0;
  for (let index = 0; start <= body.length; index++) {
    // more components than the version has metrics can only mean duplicates or junk: stop before looping further
    if (index >= maxComponents) throw new CvssError(`${label}: more than ${maxComponents} metrics`);
    const slash = body.indexOf('/', start);
    const end = slash === -1 ? body.length : slash;
    const component = body.slice(start, end);
    start = end + 1;
    if (component === '') throw new CvssError(`${label}: empty metric at position ${index + 1} (stray "/")`);
    const colon = component.indexOf(':');
    if (colon <= 0 || colon === component.length - 1) {
      throw new CvssError(`${label}: ${excerpt(component)} is not of the form METRIC:VALUE`);
    }
    const name = component.slice(0, colon);
    const value = component.slice(colon + 1);
    const allowed = Object.hasOwn(definitions, name) ? definitions[name] : undefined;
    if (!allowed) throw new CvssError(`${label}: unknown metric ${excerpt(name)}`);
    if (!allowed.includes(value)) {
      throw new CvssError(`${label}: ${excerpt(value)} is not a value of ${name} (expected one of ${allowed.join(', ')})`);
    }
    if (metrics.has(name)) throw new CvssError(`${label}: metric ${name} appears more than once`);
    metrics.set(name, value);
    if (slash === -1) break;
  }
  const missing = required.filter((name) => !metrics.has(name));
  if (missing.length > 0) throw new CvssError(`${label}: missing base metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return metrics;
}

/** Trims the vector and rejects what is not a string, too long, or holds characters no vector has. */
export function checkVectorText(vector: unknown): string {
  if (typeof vector !== 'string') throw new CvssError(`a CVSS vector must be a string, not ${vector === null ? 'null' : typeof vector}`);
  if (vector.length > MAX_CVSS_VECTOR_CHARS * 4) throw new CvssError(`CVSS vector of ${vector.length} characters is too long`);
  const trimmed = vector.trim();
  if (trimmed === '') throw new CvssError('empty CVSS vector');
  if (trimmed.length > MAX_CVSS_VECTOR_CHARS) throw new CvssError(`CVSS vector of ${trimmed.length} characters is too long (at most ${MAX_CVSS_VECTOR_CHARS})`);
  // metric names and values are ASCII letters; the version prefix adds digits and a dot; v2 may come in parentheses
  const bad = /[^A-Za-z0-9:/.()]/.exec(trimmed);
  if (bad) throw new CvssError(`CVSS vector ${excerpt(trimmed)} contains ${JSON.stringify(bad[0])} at position ${bad.index + 1}`);
  return trimmed;
}

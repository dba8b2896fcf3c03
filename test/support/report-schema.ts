/**
 * Every report the tests produce is checked against `schema/report.schema.json` in strict mode: no key the schema
 * does not describe, so the schema and `src/model/report.ts` cannot drift apart unnoticed.
 */
import { expect } from 'vitest';
import { validateReport } from '../../src/report/schema.js';

/** As written to disk: keys whose value is undefined are dropped, exactly as `--format json` would. */
function asJson(obj: unknown): unknown {
  return obj === undefined ? undefined : (JSON.parse(JSON.stringify(obj)) as unknown);
}

/** The schema's complaints about a report (or an array of reports); empty when it is valid. */
export function reportSchemaErrors(obj: unknown): string[] {
  return validateReport(asJson(obj), { strict: true }).errors;
}

function message(label: string, errors: readonly string[]): string {
  const shown = errors.slice(0, 25);
  return `${label} does not validate against schema/report.schema.json:\n  ${shown.join('\n  ')}${errors.length > shown.length ? `\n  … and ${errors.length - shown.length} more` : ''}`;
}

/** Throws (with the schema's errors) when the report is not valid; for code that runs outside an `expect`. */
export function assertValidReport(obj: unknown, label = 'the report'): void {
  const errors = reportSchemaErrors(obj);
  if (errors.length > 0) throw new Error(message(label, errors));
}

/** A vitest expectation: the report (or array of reports) validates against the report schema. */
export function expectValidReport(obj: unknown, label = 'the report'): void {
  const errors = reportSchemaErrors(obj);
  expect(errors, message(label, errors)).toEqual([]);
}

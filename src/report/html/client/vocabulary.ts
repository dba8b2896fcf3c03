/**
 * The report's vocabulary the page shows: the one place the client imports from the model, so the lists (and what
 * counts as malicious) are the ones the scanner and the verdict use. Only constants and types: the model imports no
 * stage, so bundling it adds nothing else to the page.
 */
import { MALICIOUS_CATEGORIES, SEVERITIES, VULNERABILITY_SEVERITIES, type RunRecord } from '../../../model/index.js';

/** Finding severities most severe first, then `unknown` for a value the page does not know. */
export const FINDING_SEVERITIES: readonly string[] = [...SEVERITIES, 'unknown'];
export { VULNERABILITY_SEVERITIES };

export function isMaliciousCategory(category: unknown): boolean {
  return typeof category === 'string' && (MALICIOUS_CATEGORIES as ReadonlySet<string>).has(category);
}

/** What ended a run when a limit did (`behavior.killedBy`), in words. */
export const KILLED_BY: Readonly<Record<NonNullable<RunRecord['killedBy']>, string>> = { deadline: 'the deadline', memory: 'the memory limit', pids: 'the process limit' };

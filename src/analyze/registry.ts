import type { Analyzer } from './analyzer.js';

/**
 * Every analyzer the static stage runs, in one list. Adding an ecosystem or detector: write its module under
 * `packages/<ecosystem>/` or `threats/<detector>/` and add it here.
 */
export const defaultAnalyzers: readonly Analyzer[] = [];

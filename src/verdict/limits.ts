/**
 * Bounds of the verdict step (listed in `LIMIT_MODULES`, src/config/limits.ts): what rule files, ignore files and
 * conditions may weigh, what a rule sees of a hostile run record, and how much a finding and the verdict cite. Each
 * bound turns an absurd input into a clear error or a cut.
 */

// --- Rule and ignore files (loader.ts, expression.ts, ignore.ts) ---

/** Largest rule file, or list file a rule file names (`lists: … file:`), and largest ignore file read. */
export const MAX_RULE_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024;
/** Longest condition, and deepest nesting of parentheses and calls in one, compiled. */
export const MAX_CONDITION_CHARS = 20_000;
export const MAX_CONDITION_NESTING = 100;

// --- What a rule sees of a run record (context.ts, fields/, patterns.ts) ---

/** Longest string a rule matches against (argv elements, paths, command lines): bounds regex and glob work. */
export const MAX_MATCH_CHARS = 4096;
/** Arguments of one process a rule sees. */
export const MAX_MATCHED_ARGV = 256;
/** Most ancestors walked up from a process (a tree deeper than this is cut, not looped over). */
export const MAX_ANCESTRY_DEPTH = 64;
/** Stratum methods and algorithms of one connection a rule sees. */
export const MAX_MATCHED_STRATUM_VALUES = 32;
/** Labels of a domain name compared against a domain list (DNS allows 127). */
export const MAX_MATCHED_DOMAIN_LABELS = 128;

// --- What findings and the verdict cite (index.ts, template.ts, fields/, verdict.ts) ---

/** Most events a finding cites. */
export const MAX_CITED_EVENTS = 10;
/** Arguments of a process and stratum methods of a connection an event cites. */
export const MAX_CITED_ARGV = 16;
export const MAX_CITED_STRATUM_METHODS = 8;
/** Matches whose titles are compared to tell how many distinct things a rule found. */
export const MAX_TITLED_EVENTS = 64;
/** Longest value a `{field}` puts in a finding title, and longest title. */
export const MAX_TITLE_VALUE_CHARS = 120;
export const MAX_TITLE_CHARS = 300;
/** Findings the verdict names as its evidence, and longest phrase one finding gets in its summary. */
export const MAX_VERDICT_EVIDENCE = 5;
export const MAX_VERDICT_PHRASE_CHARS = 200;

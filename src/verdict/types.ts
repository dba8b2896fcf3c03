import type { Finding, FindingCategory, RunRecord, Severity } from '../model/index.js';

/**
 * The kinds of event a rule can look at (`on:`). `run` is one event per detonation; `finding` is one event per
 * finding of the report (static and dynamic), judged when the verdict is decided.
 */
export const EVENT_KINDS = ['process', 'exec_failed', 'file', 'dns', 'connection', 'kill', 'run', 'finding'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** `strings` is a list field: a comparison on it is true when any element matches. */
export type FieldType = 'string' | 'number' | 'bool' | 'strings';
/** `null`: not known for this event (e.g. a chmod's mode the monitor did not see); every comparison on it is false. */
export type FieldValue = string | number | boolean | readonly string[] | null;

export interface FieldSpec {
  name: string;
  type: FieldType;
  /** One line for docs/rules.md. */
  doc: string;
}

/** One event as the rules see it: every field of its kind, computed once, and what a finding cites of it. */
export interface EventView {
  kind: EventKind;
  values: Readonly<Record<string, FieldValue>>;
  /** The event's key fields, already made printable: `{ kind, pid, exe, argv }`, `{ kind, path, op }`, … */
  cite: Readonly<Record<string, unknown>>;
  /** A file rule's path, a process rule's exe: the finding's `path`. */
  path?: string;
  /** A finding event's position in the findings judged. */
  index?: number;
}

export { FINDING_CATEGORIES as CATEGORIES, SEVERITIES } from '../model/index.js';

export interface VerdictRuleInfo {
  id: string;
  kind: EventKind;
  category: FindingCategory;
  severity: Severity;
  description: string;
  attack: string[];
  enabled: boolean;
  /** `file:line` of its definition. */
  where: string;
}

export interface VerdictRules {
  /** Changes whenever a loaded rule or list file changes: part of cache keys of results judged by these rules. */
  readonly digest: string;
  readonly rules: readonly VerdictRuleInfo[];
  /** Files loaded, in order. */
  readonly files: readonly string[];
  /** The behaviour rules over one run record: one finding per rule that matched, citing the events behind it. */
  evaluateBehavior(run: RunRecord): Finding[];
  /**
   * The `on: finding` rules over `findings` and what the run did (`run` null: the image was not run, every run.*
   * field is unknown). Their findings carry `evidence.correlation: true` and cite the findings they rest on.
   */
  evaluateFindings(findings: readonly Finding[], run: RunRecord | null): Finding[];
}

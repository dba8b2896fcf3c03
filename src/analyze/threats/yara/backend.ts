import type { CompiledRules, ScanVariables, SkippedRule } from './engine.js';
import type { MetaValue } from './source.js';
import { MAX_YARA_MATCH_DATA_BYTES } from '../../limits.js';

/**
 * What the loader hands an engine: one assembled rule source plus the table that maps each compiled rule name back
 * to its real name and namespace (rules are renamed when two files use the same name, since neither engine is given
 * per-file namespaces: the YARA-X binding has none, and one source keeps both engines' results identical).
 */
export interface RuleInfo {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, MetaValue>;
}

export interface AssembledRules {
  source: string;
  /** Compiled rule name → where it came from. */
  table: ReadonlyMap<string, RuleInfo>;
  digest: string;
  ruleCount: number;
  skipped: readonly SkippedRule[];
  notes: readonly string[];
}

/** A compile error located in the assembled source (1-based line), as both engines report it. */
export interface EngineError {
  line?: number;
  message: string;
}

export type BuildResult = { ok: true; rules: CompiledRules } | { ok: false; errors: EngineError[] };

export interface RuleEngine {
  readonly name: CompiledRules['engine'];
  /** Compiles, or returns every error it can find with its line. */
  build(rules: AssembledRules): Promise<BuildResult>;
}

/** External variables declared for every rule set (the signature-base/LOKI convention), empty until a scan sets them. */
export const EXTERNAL_VARIABLES = ['filename', 'filepath', 'extension', 'filetype', 'owner'] as const;

export function variableValues(variables?: ScanVariables): Record<(typeof EXTERNAL_VARIABLES)[number], string> {
  return {
    filename: variables?.filename ?? '',
    filepath: variables?.filepath ?? '',
    extension: variables?.extension ?? '',
    filetype: variables?.filetype ?? '',
    owner: variables?.owner ?? '',
  };
}

/**
 * Whether the YARA-X binding can pass `value` as a string: it turns integer-looking and true/false strings into
 * integers and booleans, which string variables refuse. Such values (a file named `1`, `true`) are left unset.
 */
export function passableAsString(value: string): boolean {
  return !/^[+-]?\d+$/.test(value) && !/^(true|false)$/i.test(value);
}

/** The matched bytes, copied out of the scanned content so the match does not keep the whole file alive. */
export function matchData(content: Buffer, offset: number, length: number): Buffer {
  const start = Math.min(Math.max(0, offset), content.length);
  return Buffer.from(content.subarray(start, Math.min(content.length, start + Math.min(length, MAX_YARA_MATCH_DATA_BYTES))));
}

/**
 * The YARA seam: one compiled rule set, scanned against file contents. Two engines implement it: YARA-X in-process
 * (`@litko/yara-x`, scanning in a pool of worker threads, so off the main thread on every core) and the `yara` CLI (used
 * when the binding cannot load). Detectors never know which engine ran.
 */

/** Values for the external variables that LOKI/THOR-style rules use (`filename`, `filepath`, `extension`, `filetype`). */
export interface ScanVariables {
  /** Base name, e.g. `kdevtmpfsi`. */
  filename: string;
  /** Full path inside the image with a leading slash, e.g. `/usr/bin/kdevtmpfsi`. */
  filepath: string;
  /** Lower-case extension with its dot, or '' (e.g. `.php`). */
  extension: string;
  /** A coarse type: `ELF`, `PE`, `MACHO`, `SCRIPT`, `TEXT`, `DATA`. */
  filetype: string;
  /** The file's owner (`root` for uid 0, else the numeric uid), for rules written for LOKI's `owner` variable. */
  owner?: string;
}

export interface YaraStringMatch {
  /** `$a`, `$s1` … */
  identifier: string;
  offset: number;
  length: number;
  /** The matched bytes, possibly cut short by the engine. */
  data: Buffer;
}

export interface YaraMatch {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: YaraStringMatch[];
}

/** A rule (or whole file) that could not be compiled and was left out, with the reason: never dropped silently. */
export interface SkippedRule {
  file: string;
  /** The rule's name, where the loader could tell which rule failed; absent when the whole file was left out. */
  rule?: string;
  /** e.g. `needs module "cuckoo", which this engine lacks`, `unknown identifier "is__elf"`, `invalid regular expression`. */
  reason: string;
}

export interface CompiledRules {
  readonly engine: 'yara-x' | 'yara';
  /** SHA-256 over the engine name and every rule source that went in: a cache key for results made with these rules. */
  readonly digest: string;
  /** Rules that compiled. */
  readonly ruleCount: number;
  readonly skipped: readonly SkippedRule[];
  /** Limits of this engine a user should know about (e.g. the CLI engine cannot set external variables per file). */
  readonly notes?: readonly string[];
  scan(content: Buffer, variables: ScanVariables): Promise<YaraMatch[]>;
  /** Releases processes or temp files the engine holds (the CLI engine); a no-op for YARA-X. */
  close(): Promise<void>;
}

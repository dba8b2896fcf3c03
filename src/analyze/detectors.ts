import type { ScanNotice } from '../model/index.js';
import type { Analyzer } from './analyzer.js';
import type { ImageCheck } from './image-check.js';
import { defaultImageChecks, fileAnalyzers, withUnpacking } from './registry.js';
import { createKnownHashesAnalyzer, loadHashLists } from './threats/known-hashes/index.js';
import type { CompiledRules } from './threats/yara/engine.js';

export interface DetectorOptions {
  /** Directories of the user's own YARA rules (`--rules`), searched recursively, added to the bundled ones. */
  ruleDirs?: readonly string[];
  /** Leave out the YARA rules Detonate ships (default: included). */
  bundledRules?: boolean;
  /** Known-bad SHA-256 lists (`--hashes`). */
  hashLists?: readonly string[];
  /** Which YARA engine: YARA-X in-process, the `yara` CLI, or `auto` (YARA-X when its binding loads). */
  yaraEngine?: 'auto' | 'yara-x' | 'yara';
}

/** Everything the static stage runs for one scan run, built once (rules compiled once per process). */
export interface Detectors {
  analyzers: Analyzer[];
  imageChecks: ImageCheck[];
  /** Rules that could not be used, and similar set-up problems a user should see once. */
  notices: ScanNotice[];
  yara: { engine: CompiledRules['engine']; ruleCount: number; skipped: CompiledRules['skipped'] };
  close(): Promise<void>;
}

/**
 * Builds the static stage's analyzers and image checks: the package catalogers and threat detectors, the YARA rules
 * (bundled plus `--rules`), and a known-bad hash list when given. Errors in what the user supplied (an unreadable
 * rules directory, a malformed hash list) throw with a message naming the file.
 */
export async function createDetectors(options: DetectorOptions = {}): Promise<Detectors> {
  const { loadRules, describeSkippedRules } = await import('./threats/yara/loader.js');
  const { createYaraAnalyzer } = await import('./threats/yara/index.js');
  // Cheap checks of what the user supplied come first, so a typo fails before any rule is compiled.
  const hashes = options.hashLists && options.hashLists.length > 0 ? createKnownHashesAnalyzer(loadHashLists(options.hashLists)) : null;
  const ruleDirs = [...(options.ruleDirs ?? [])];
  // The user's rules compile now, so what cannot be used is reported before the scan; the bundled ones (tested to
  // compile) compile on first use, so a re-scan answered from the cache never starts the YARA engine.
  const rules = await loadRules({ bundled: options.bundledRules ?? true, dirs: ruleDirs, engine: options.yaraEngine ?? 'auto', lazy: ruleDirs.length === 0 });
  const fileAndRuleAnalyzers: Analyzer[] = [...fileAnalyzers, createYaraAnalyzer(rules)];
  if (hashes) fileAndRuleAnalyzers.push(hashes);
  const analyzers = withUnpacking(fileAndRuleAnalyzers);
  const notices: ScanNotice[] = describeSkippedRules(rules).map((message) => ({ level: 'warning', message }));
  return {
    analyzers,
    imageChecks: [...defaultImageChecks],
    notices,
    yara: { engine: rules.engine, ruleCount: rules.ruleCount, skipped: rules.skipped },
    close: () => rules.close(),
  };
}

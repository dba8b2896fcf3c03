import type { Finding, ImageConfigSummary, Package, ScanNotice } from '../model/index.js';
import type { MergedFile } from './merge.js';
import type { LayerResult } from './runner.js';

/** One line of the image's build history (the config's `history`), tied to the layer it made where it made one. */
export interface HistoryStep {
  /** Index into `history`. */
  step: number;
  createdBy: string;
  /** The layer this step produced; null for steps that made no layer (ENV, USER, CMD …). */
  layer: number | null;
}

/** What an image-level check sees: the merged static result plus the image config and build history. */
export interface ImageFacts {
  config: ImageConfigSummary;
  history: readonly HistoryStep[];
  /** Per-layer results in layer order (entries with their mode bits, analyses). */
  layers: readonly LayerResult[];
  /** The final filesystem view. */
  files: ReadonlyMap<string, MergedFile>;
  /** File versions a later layer deleted or replaced. */
  removed: readonly MergedFile[];
  packages: readonly Package[];
  /** Findings the per-file analyzers made, after merge (with `layer` and `removedInLayer`). */
  findings: readonly Finding[];
}

export interface ImageCheckOutput {
  findings?: Finding[];
  notices?: ScanNotice[];
}

/**
 * A detector that looks at the whole image rather than one file: the config (user, ports, ENV), the history
 * (`curl … | sh`), the merged file modes (setuid files), installed packages, or findings of several detectors on one
 * file (a PE that also carries a miner is `windows-malware`). Checks run after the layers are merged, in list order,
 * each seeing the findings of the checks before it. They must be cheap: they run on every scan, cached or not.
 */
export interface ImageCheck {
  readonly name: string;
  readonly version: number;
  /** As `Analyzer.configKey`: what besides the code decides the output (a hash list's digest …). */
  readonly configKey?: string;
  check(facts: ImageFacts): ImageCheckOutput;
}

/** Runs image checks in order; a check that throws becomes a notice, never a failed scan. */
export function runImageChecks(checks: readonly ImageCheck[], facts: ImageFacts): { findings: Finding[]; notices: ScanNotice[] } {
  const findings: Finding[] = [...facts.findings];
  const notices: ScanNotice[] = [];
  for (const check of checks) {
    try {
      const out = check.check({ ...facts, findings });
      findings.push(...(out.findings ?? []));
      notices.push(...(out.notices ?? []));
    } catch (err) {
      notices.push({ level: 'warning', message: `image check ${check.name} failed: ${(err as Error).message}` });
    }
  }
  return { findings, notices };
}

/** `name@version` of every check, sorted: part of the image summary cache key. */
export function imageCheckKey(checks: readonly ImageCheck[]): string {
  return [...checks].map((c) => `${c.name}@${c.version}${c.configKey ? `#${c.configKey}` : ''}`).sort().join(',');
}

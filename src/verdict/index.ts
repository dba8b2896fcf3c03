/**
 * Verdict rules: load the shipped `rules/behavior/*.yaml` and `rules/verdict/*.yaml` (and users' rule directories),
 * then turn a detonation's recorded behaviour into findings (`evaluateBehavior`), and a report's findings together
 * with its run into correlation findings (`evaluateFindings`, `on: finding` rules): one finding per rule that
 * matched, each citing the events behind it. The rule format is documented in docs/rules.md; the verdict itself
 * is decided in verdict.ts.
 */
import { join } from 'node:path';
import { bundledRulesDir } from '../config/paths.js';
import { severityWeight, type Finding, type RunRecord } from '../model/index.js';
import { buildContext, type BehaviorContext } from './context.js';
import { eventsOf } from './fields/index.js';
import { compileRuleFiles, ruleFilesIn, type CompiledRule } from './loader.js';
import type { EventKind, EventView, VerdictRules } from './types.js';
import { MAX_CITED_EVENTS, MAX_TITLED_EVENTS } from './limits.js';

export type { VerdictRuleInfo, VerdictRules } from './types.js';
export { MAX_CITED_EVENTS } from './limits.js';

export { DataFileError } from '../config/data-file.js';
export { decideVerdict, isStrongMalicious, type DecideVerdictOptions, type Judgement, type VerdictInput } from './verdict.js';
export { applyIgnoreList, DEFAULT_IGNORE_FILE, type Ignorable, loadIgnoreFile, parseIgnoreFile, type IgnoreEntry, type IgnoreList } from './ignore.js';
export { FIELDS_BY_KIND } from './fields/index.js';
export type { EventKind, FieldSpec, FieldType } from './types.js';

export interface LoadVerdictRulesOptions {
  /** Load the shipped rules (`rules/behavior/`). Default true. */
  bundled?: boolean;
  /** More rule directories (`--verdict-rules DIR`), loaded after the shipped ones, in this order. */
  dirs?: string[];
}

export function bundledBehaviorRulesDir(): string {
  return join(bundledRulesDir(), 'behavior');
}

/** The shipped correlation rules (`on: finding`), loaded after the behaviour rules so they can use their lists. */
export function bundledVerdictRulesDir(): string {
  return join(bundledRulesDir(), 'verdict');
}

let bundledSet: Promise<VerdictRules> | undefined;

export function loadVerdictRules(options: LoadVerdictRulesOptions = {}): Promise<VerdictRules> {
  const bundled = options.bundled ?? true;
  const dirs = options.dirs ?? [];
  if (bundled && dirs.length === 0) {
    bundledSet ??= Promise.resolve().then(() => loadVerdictRulesSync({ bundled: true }));
    // A failed load is not memoised: the next call reports it again.
    bundledSet.catch(() => (bundledSet = undefined));
    return bundledSet;
  }
  return Promise.resolve().then(() => loadVerdictRulesSync({ bundled, dirs }));
}

export function loadVerdictRulesSync(options: LoadVerdictRulesOptions = {}): VerdictRules {
  const bundled = (options.bundled ?? true) ? [...ruleFilesIn(bundledBehaviorRulesDir()), ...ruleFilesIn(bundledVerdictRulesDir())] : [];
  const files = [...bundled, ...(options.dirs ?? []).flatMap(ruleFilesIn)];
  return loadVerdictRuleFiles(files);
}

/** Loads exactly these rule files, in this order. */
export function loadVerdictRuleFiles(files: readonly string[]): VerdictRules {
  const set = compileRuleFiles(files);
  const active = set.rules.filter((r) => r.enabled && r.kind !== 'finding');
  const correlations = set.rules.filter((r) => r.enabled && r.kind === 'finding');
  const byKind = new Map<EventKind, CompiledRule[]>();
  for (const r of active) {
    const list = byKind.get(r.kind) ?? [];
    list.push(r);
    byKind.set(r.kind, list);
  }
  return {
    digest: set.digest,
    files: set.files,
    rules: set.rules.map((r) => ({ id: r.id, kind: r.kind, category: r.category, severity: r.severity, description: r.description, attack: r.attack, enabled: r.enabled, where: r.where })),
    evaluateBehavior: (result) => evaluate(active, byKind, buildContext(result)),
    evaluateFindings: (findings, run) => {
      if (correlations.length === 0 || findings.length === 0) return [];
      const ctx = buildContext(run ?? NOT_RUN, { detonated: run !== null, findings: rankForCorrelation(findings) });
      return evaluate(correlations, new Map([['finding', correlations]]), ctx).map((f) => ({ ...f, evidence: { ...f.evidence, correlation: true } }));
    },
  };
}

/** Strongest first, so a correlation's title and path name its best evidence (the miner binary before its config). */
function rankForCorrelation(findings: readonly Finding[]): Finding[] {
  const weight = (f: Finding) => severityWeight(f.severity) * 4 + (f.evidence?.family ? 2 : 0) + (f.sha256 ? 1 : 0);
  return [...findings].sort((a, b) => weight(b) - weight(a));
}

/** What the correlation rules see of a run when there was none: every run.* field is then unknown. */
const NOT_RUN: RunRecord = {
  sandbox: '', durationMs: 0, exitCode: null, timedOut: false, processes: [], files: [], dns: [], connections: [], kills: [],
  cpu: { seconds: 0, peakCores: 0 }, memory: { peakBytes: 0 }, pids: { peak: 0 }, limitsHit: { oomKills: 0, pidsLimitHits: 0 }, series: [],
  output: { stdout: '', stderr: '', truncated: false }, timings: { setupMs: 0, teardownMs: 0 },
};

function evaluate(active: readonly CompiledRule[], byKind: ReadonlyMap<EventKind, CompiledRule[]>, ctx: BehaviorContext): Finding[] {
  if (active.length === 0) return [];
  const views = new Map<EventKind, EventView[]>();
  const viewsOf = (kind: EventKind): EventView[] => {
    let list = views.get(kind);
    if (!list) views.set(kind, (list = eventsOf(kind, ctx)));
    return list;
  };
  const run = viewsOf('run')[0]!;

  const matches = new Map<CompiledRule, EventView[]>();
  for (const [kind, rules] of byKind) {
    for (const event of viewsOf(kind)) {
      for (const rule of rules) {
        if (!rule.test(event, run)) continue;
        const list = matches.get(rule);
        if (list) list.push(event);
        else matches.set(rule, [event]);
      }
    }
  }

  const findings: Finding[] = [];
  for (const rule of active) {
    const matched = matches.get(rule);
    if (!matched) continue;
    const first = matched[0]!;
    let cited = matched;
    let count = matched.length;
    if (rule.kind === 'run') {
      cited = [];
      for (const cite of rule.cites) for (const e of viewsOf(cite.on)) if (cite.test(e, run)) cited.push(e);
      count = Math.max(1, cited.length);
      if (cited.length === 0) cited = [run];
    }
    // One title per distinct thing matched: a fork that never exec'd repeats its parent's title and is not another
    // run; different paths (two crontabs) are more than one thing, however many events each took.
    const titles = rule.kind === 'run' ? [rule.title(first, run)] : [...new Set(matched.slice(0, MAX_TITLED_EVENTS).map((e) => rule.title(e, run)))];
    const title = titles[0]! + (titles.length > 1 ? ` (and ${titles.length - 1} more)` : '');
    const summary = rule.summary?.(first, run);
    const on = rule.kind === 'finding' && first.index !== undefined ? ctx.findings[first.index] : undefined;
    findings.push({
      category: rule.category,
      severity: rule.severity,
      title,
      source: on && !(rule.readsRun && ctx.detonated) ? on.source : 'dynamic',
      rule: rule.id,
      ...(first.path && (rule.kind === 'file' || rule.kind === 'process' || rule.kind === 'exec_failed' || rule.kind === 'finding') ? { path: first.path } : {}),
      ...(on && typeof on.layer === 'number' ? { layer: on.layer, removedInLayer: on.removedInLayer ?? null } : {}),
      ...(on?.sha256 ? { sha256: on.sha256 } : {}),
      ...(rule.attack.length > 0 ? { attack: [...rule.attack] } : {}),
      evidence: { description: rule.description, count, events: cited.slice(0, MAX_CITED_EVENTS).map((e) => e.cite), ...(summary ? { summary } : {}) },
    });
  }
  return findings;
}

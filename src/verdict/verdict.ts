/**
 * The verdict: the one step that ends every scan. It applies the ignore file, runs the correlation rules
 * (`on: finding`, rules/verdict/) over the static and dynamic findings and the run, and fills `report.verdict`:
 * categories, `malicious` (DESIGN §3: strong evidence of cryptominer, backdoor, windows-malware, malware or
 * malicious-package), vulnerability counts, the strongest evidence and a one-sentence summary naming it.
 */
import type { DetonationResult } from '../detonate/session.js';
import { atLeast, MALICIOUS_CATEGORIES, worstFirst, type Finding, type FindingCategory, type Report, type Severity, type VerdictEvidence } from '../model/index.js';
import { applyIgnoreList, type IgnoreList } from './ignore.js';
import type { VerdictRules } from './types.js';

export interface DecideVerdictOptions {
  /** The loaded rules; without them no correlation rule runs (the verdict still stands on the findings). */
  rules?: Pick<VerdictRules, 'evaluateFindings'>;
  ignore?: IgnoreList | null;
  /** For expiry of ignore entries. */
  now?: Date;
}

const STRONG: ReadonlySet<Severity> = new Set(['critical', 'high']);
const MAX_EVIDENCE = 5;
const MAX_PHRASE_CHARS = 200;
/** Categories that never make the "worth a look" part of a clean summary (they have their own words, or none). */
const NOT_WORTH_A_LOOK: ReadonlySet<FindingCategory> = new Set(['misconfiguration', 'windows-pe']);

/** Strong evidence of a malicious category: what makes `verdict.malicious` true. */
export function isStrongMalicious(f: Pick<Finding, 'category' | 'severity'>): boolean {
  return MALICIOUS_CATEGORIES.has(f.category) && STRONG.has(f.severity);
}

const isCorrelation = (f: Finding): boolean => f.evidence?.correlation === true;

/** Strongest first: malicious strength, severity, dynamic over static, correlation rules first. */
function compareEvidence(a: Finding, b: Finding): number {
  return (
    Number(isStrongMalicious(b)) - Number(isStrongMalicious(a)) ||
    worstFirst(a.severity, b.severity) ||
    Number(b.source === 'dynamic') - Number(a.source === 'dynamic') ||
    Number(isCorrelation(b)) - Number(isCorrelation(a))
  );
}

/** Decides `report.verdict` (in place; the report is returned). Calling it again gives the same verdict. */
export function decideVerdict(report: Report, options: DecideVerdictOptions = {}): Report {
  // Correlations of an earlier call are derived data: judged again from what is there now.
  report.findings = report.findings.filter((f) => !isCorrelation(f));
  if (options.ignore) applyIgnoreList(report, options.ignore, options.now);
  const run = runOf(report.behavior);
  const correlated = options.rules?.evaluateFindings(report.findings, run) ?? [];
  if (correlated.length > 0) {
    report.findings.push(...correlated);
    if (options.ignore) applyIgnoreList(report, options.ignore, options.now);
  }

  const ranked = report.findings.filter((f) => f.severity !== 'info').sort(compareEvidence);
  const strong = ranked.filter(isStrongMalicious);
  const counts = { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 };
  for (const v of report.vulnerabilities) counts[v.severity] = (counts[v.severity] ?? 0) + 1;
  report.verdict = {
    malicious: strong.length > 0,
    categories: [...new Set(report.findings.map((f) => f.category))].sort(),
    vulnerabilities: counts,
    summary: summarise(report, ranked, strong, counts),
    ...(ranked.length > 0 ? { evidence: ranked.slice(0, MAX_EVIDENCE).map(evidenceOf) } : {}),
  };
  return report;
}

function evidenceOf(f: Finding): VerdictEvidence {
  return { category: f.category, severity: f.severity, source: f.source, rule: f.rule, title: f.title, ...(f.path ? { path: f.path } : {}) };
}

/** How one finding reads in the summary: its rule's `summary:` text, else its title and file. */
export function phraseOf(f: Finding): string {
  const custom = f.evidence?.summary;
  let text = typeof custom === 'string' && custom ? custom : f.title;
  if (!(typeof custom === 'string' && custom) && f.path && !text.includes(f.path)) {
    const removed = typeof f.removedInLayer === 'number' ? `, removed in layer ${f.removedInLayer}` : '';
    text += ` (${f.path}${removed})`;
  }
  text = text.replace(/\s+/g, ' ').replace(/[.;\s]+$/, '');
  return text.length > MAX_PHRASE_CHARS ? `${text.slice(0, MAX_PHRASE_CHARS - 1)}…` : text;
}

function summarise(report: Report, ranked: Finding[], strong: Finding[], counts: Report['verdict']['vulnerabilities']): string {
  const parts: string[] = [];
  if (strong.length > 0) {
    const categories = [...new Set(strong.map((f) => f.category))];
    const first = strong[0]!;
    const second = strong.find((f) => f.category !== first.category);
    parts.push(`Malicious (${categories.join(', ')}): ${phraseOf(first)}${second ? `, and ${phraseOf(second)}` : ''}`);
  } else {
    const notable = ranked.filter((f) => !NOT_WORTH_A_LOOK.has(f.category));
    const top = notable[0];
    if (top && STRONG.has(top.severity)) {
      // Strong evidence of something that is not malicious by definition (an attack tool, a secret, a dropper pattern).
      parts.push(`Suspicious${top.category === 'suspicious' ? '' : ` (${top.category})`}: ${phraseOf(top)}`);
    } else {
      const b = report.behavior;
      parts.push(b === null ? 'No malicious content found (static analysis only)' : 'error' in b ? 'No malicious content found (the image could not be run)' : 'No malicious behaviour seen');
      // A layer stopped by a limit (a bomb, a corrupt tar) was judged only as far as it was read: never a clean bill.
      const unread = new Set((report.notices ?? []).filter((n) => n.level === 'error' && n.layer !== undefined).map((n) => n.layer));
      if (unread.size > 0) parts.push(`incomplete: ${unread.size} ${unread.size === 1 ? 'layer' : 'layers'} could not be read completely`);
      const look = notable.find((f) => atLeast(f.severity, 'moderate') || f.category === 'hacking-tool');
      if (look) parts.push(`worth a look (${look.category}): ${phraseOf(look)}`);
    }
  }
  const n = report.vulnerabilities.length;
  if (n > 0 || report.tool.advisoryDb) {
    const severe = (['critical', 'high'] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
    parts.push(n === 0 ? 'no known vulnerabilities' : `${n} known ${n === 1 ? 'vulnerability' : 'vulnerabilities'}${severe.length ? ` (${severe.join(', ')})` : ''}`);
  }
  if (strong.length === 0 && report.findings.some((f) => f.rule === 'misconfiguration/root-user')) parts.push('runs as root');
  return `${parts.join('; ')}.`;
}

/** What the rules read of the run, from the report's `behavior` (null when the image was not run). */
export function runOf(behavior: Report['behavior']): DetonationResult | null {
  if (!behavior || 'error' in behavior) return null;
  // The sample's resolver is the sink: its lookups are not connections of the sample's own.
  const sinkAddress = behavior.dns.length > 0 ? (behavior.connections.find((c) => c.proto === 'udp' && c.port === 53)?.dst ?? '') : '';
  return {
    sandbox: behavior.sandbox,
    durationMs: behavior.durationMs,
    exitCode: behavior.exitCode,
    timedOut: behavior.timedOut,
    ...(behavior.killedBy ? { killedBy: behavior.killedBy } : {}),
    processes: behavior.processes ?? [],
    files: behavior.files ?? [],
    dns: behavior.dns ?? [],
    connections: (behavior.connections ?? []) as DetonationResult['connections'],
    kills: behavior.kills ?? [],
    cpu: behavior.cpu,
    memory: behavior.memory,
    pids: behavior.pids ?? { peak: 0 },
    limitsHit: behavior.limitsHit ?? { oomKills: 0, pidsLimitHits: 0 },
    series: behavior.series ?? [],
    output: behavior.output ?? { stdout: '', stderr: '', truncated: false },
    sinkhole: { events: [], stats: null },
    network: { sinkAddress, sampleAddress: '' },
    timings: behavior.timings ?? { setupMs: 0, teardownMs: 0 },
  };
}

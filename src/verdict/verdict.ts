/**
 * The verdict: the one step that ends every scan, called once over what the stages returned. It runs the behaviour
 * rules over the run record, applies the ignore file, runs the correlation rules (`on: finding`, rules/verdict/)
 * over the static and dynamic findings and the run, and decides the verdict (DESIGN §3): categories, `malicious`
 * (strong evidence of cryptominer, backdoor, windows-malware, malware or malicious-package), vulnerability counts,
 * the strongest evidence and a one-sentence summary naming it. Like Falco's ruleset, the rules do not care where
 * the run record came from: a fresh detonation, or a stored one judged again.
 */
import {
  atLeast, MALICIOUS_CATEGORIES, worstFirst,
  type Finding, type FindingCategory, type RunFailure, type RunRecord, type ScanNotice, type Severity, type SuppressedItem, type Verdict,
  type VerdictEvidence, type Vulnerability,
} from '../model/index.js';
import { applyIgnoreList, type IgnoreList } from './ignore.js';
import type { VerdictRules } from './types.js';
import { MAX_VERDICT_EVIDENCE, MAX_VERDICT_PHRASE_CHARS } from './limits.js';

/** What the stages found, as the verdict step takes it. */
export interface VerdictInput {
  /** The static stage's findings (layers, image checks), then the vulnerability stage's malicious packages. */
  findings: readonly Finding[];
  /** Findings on the files the sample dropped (the detonation stage ran the static detectors on them). */
  droppedFindings?: readonly Finding[];
  vulnerabilities: readonly Vulnerability[];
  /** The run record; a `RunFailure` when the image could not be run; null when it was not run (static only). */
  run: RunRecord | RunFailure | null;
  /** The scan's notices so far: a layer that could not be read completely makes the verdict say it is incomplete. */
  notices: readonly ScanNotice[];
  /** Vulnerabilities were matched against an advisory DB (the summary then gives their count, or says none). */
  vulnerabilitiesChecked: boolean;
}

export interface DecideVerdictOptions {
  /** The loaded rules; without them no behaviour or correlation rule runs (the verdict still stands on the findings). */
  rules?: Pick<VerdictRules, 'evaluateBehavior' | 'evaluateFindings'>;
  ignore?: IgnoreList | null;
  /** For expiry of ignore entries. */
  now?: Date;
}

/** The verdict step's result: the report's findings, vulnerabilities, suppressed items and verdict, and its notices. */
export interface Judgement {
  /** Static findings, behaviour findings, findings on dropped files, correlations: in this order, minus the ignored. */
  findings: Finding[];
  vulnerabilities: Vulnerability[];
  /** What the ignore file kept out; absent when no ignore file was given. */
  suppressed?: SuppressedItem[];
  /** Expired ignore entries. */
  notices: ScanNotice[];
  verdict: Verdict;
}

const STRONG: ReadonlySet<Severity> = new Set(['critical', 'high']);
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

const isRun = (run: VerdictInput['run']): run is RunRecord => run !== null && !('error' in run);

/** The one verdict step. A pure function of its input: judging the same stage results again gives the same judgement. */
export function decideVerdict(input: VerdictInput, options: DecideVerdictOptions = {}): Judgement {
  const run = isRun(input.run) ? input.run : null;
  // Paths in findings are relative to the image root, as the static stage writes them.
  const behaviour = run ? (options.rules?.evaluateBehavior(run) ?? []).map((f) => (f.path ? { ...f, path: f.path.replace(/^\/+/, '') } : f)) : [];
  let judged = { findings: [...input.findings, ...behaviour, ...(input.droppedFindings ?? [])], vulnerabilities: [...input.vulnerabilities] };
  const suppressed: SuppressedItem[] = [];
  const notices: ScanNotice[] = [];
  const ignore = (): void => {
    if (!options.ignore) return;
    const out = applyIgnoreList(judged, options.ignore, options.now);
    judged = out;
    suppressed.push(...out.suppressed);
    for (const n of out.notices) if (!notices.some((x) => x.message === n.message)) notices.push(n);
  };
  ignore();
  const correlated = options.rules?.evaluateFindings(judged.findings, run) ?? [];
  if (correlated.length > 0) {
    judged = { ...judged, findings: [...judged.findings, ...correlated] };
    ignore();
  }

  const { findings, vulnerabilities } = judged;
  const ranked = findings.filter((f) => f.severity !== 'info').sort(compareEvidence);
  const strong = ranked.filter(isStrongMalicious);
  const counts = { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 };
  for (const v of vulnerabilities) counts[v.severity] = (counts[v.severity] ?? 0) + 1;
  const verdict: Verdict = {
    malicious: strong.length > 0,
    categories: [...new Set(findings.map((f) => f.category))].sort(),
    vulnerabilities: counts,
    summary: summarise({ ...input, findings, vulnerabilities }, ranked, strong, counts),
    ...(ranked.length > 0 ? { evidence: ranked.slice(0, MAX_VERDICT_EVIDENCE).map(evidenceOf) } : {}),
  };
  return { findings, vulnerabilities, ...(options.ignore ? { suppressed } : {}), notices, verdict };
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
  return text.length > MAX_VERDICT_PHRASE_CHARS ? `${text.slice(0, MAX_VERDICT_PHRASE_CHARS - 1)}…` : text;
}

function summarise(judged: VerdictInput, ranked: Finding[], strong: Finding[], counts: Verdict['vulnerabilities']): string {
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
      const b = judged.run;
      parts.push(b === null ? 'No malicious content found (static analysis only)' : 'error' in b ? 'No malicious content found (the image could not be run)' : 'No malicious behaviour seen');
      // A layer stopped by a limit (a bomb, a corrupt tar) was judged only as far as it was read: never a clean bill.
      const unread = new Set(judged.notices.filter((n) => n.level === 'error' && n.layer !== undefined).map((n) => n.layer));
      if (unread.size > 0) parts.push(`incomplete: ${unread.size} ${unread.size === 1 ? 'layer' : 'layers'} could not be read completely`);
      const look = notable.find((f) => atLeast(f.severity, 'moderate') || f.category === 'hacking-tool');
      if (look) parts.push(`worth a look (${look.category}): ${phraseOf(look)}`);
    }
  }
  const n = judged.vulnerabilities.length;
  if (n > 0 || judged.vulnerabilitiesChecked) {
    const severe = (['critical', 'high'] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
    parts.push(n === 0 ? 'no known vulnerabilities' : `${n} known ${n === 1 ? 'vulnerability' : 'vulnerabilities'}${severe.length ? ` (${severe.join(', ')})` : ''}`);
  }
  if (strong.length === 0 && judged.findings.some((f) => f.rule === 'misconfiguration/root-user')) parts.push('runs as root');
  return `${parts.join('; ')}.`;
}

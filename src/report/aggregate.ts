/**
 * "The state of the registry" as Markdown: the aggregate figures (src/model/aggregate.ts) as sentences a person can
 * quote and tables behind them. Every value that came from an image (a pool, a domain, a failure reason) is escaped:
 * it renders as text, never as Markdown or HTML.
 */
import { threatCategories, type AggregateReport, type Ranked, type WorstSeverity } from '../model/index.js';
import { MAX_CELL_CHARS } from './limits.js';
import { markdownText } from './markdown.js';

/** A value from an image, as inert Markdown text on one line, cut to a table cell. */
const cellText = (value: string): string => markdownText(value.length > MAX_CELL_CHARS ? `${value.slice(0, MAX_CELL_CHARS)}…` : value);

const count = (n: number) => n.toLocaleString('en-US');
const counted = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;
const percent = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '0%');
const pulls = (n: number | null) => (n === null ? 'unknown' : count(n));
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '?');

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_\n';
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

const rankedTable = (label: string, list: readonly Ranked[], unit = 'images') => table([label, unit], list.map((r) => [cellText(r.value), count(r.images)]));

const SEVERITY_WORDS: Array<[WorstSeverity, string]> = [
  ['critical', 'at least one critical vulnerability'],
  ['high', 'high vulnerabilities at worst'],
  ['moderate', 'moderate vulnerabilities at worst'],
  ['low', 'low vulnerabilities at worst'],
  ['unknown', 'only vulnerabilities of unknown severity'],
  ['none', 'no known vulnerability'],
];

export function renderAggregateMarkdown(report: AggregateReport): string {
  const { images } = report;
  const matched = images.judged - report.notMatched;
  const out: string[] = [];
  out.push('# The state of the registry\n\n');
  out.push(
    `Detonate judged **${counted(images.judged, 'image', 'images')}** (${counted(images.tags, 'tag', 'tags')} in ${counted(images.repositories, 'repository', 'repositories')}) ` +
      `between ${day(report.window.from)} and ${day(report.window.to)}; ${count(images.detonated)} of them also ran in a sandbox. ` +
      `${counted(report.unfinished.failed, 'more image', 'more images')} could not be judged (the scan failed) and ${count(report.unfinished.skipped)} were skipped on purpose. ` +
      `Generated ${report.generatedAt}.\n`,
  );

  out.push('\n## Threats\n\n');
  out.push(
    `**${counted(images.malicious, 'image', 'images')} (${percent(images.malicious, images.judged)})** judged malicious; ` +
      `their repositories had ${pulls(images.maliciousPulls)} pulls. ` +
      `${counted(report.windowsMalwareInLinux.images, 'Linux image', 'Linux images')} carried Windows malware (${pulls(report.windowsMalwareInLinux.pulls)} pulls).\n`,
  );
  out.push('\n');
  out.push(table(['category', 'images', 'judged malicious', 'repositories', 'pulls'], threatCategories(report).map((c) => [c.category, count(c.images), count(c.malicious), count(c.repositories), pulls(c.pulls)])));
  const others = report.categories.filter((c) => !threatCategories(report).includes(c));
  if (others.length > 0) {
    out.push('\nOther findings:\n');
    out.push(table(['category', 'images', 'repositories'], others.map((c) => [c.category, count(c.images), count(c.repositories)])));
  }

  out.push('\n## Vulnerabilities\n\n');
  if (matched === 0) {
    out.push('No image was matched against an advisory DB.\n');
  } else {
    const lines = SEVERITY_WORDS.filter(([s]) => report.worstSeverity[s] > 0 || s === 'critical' || s === 'high')
      .map(([s, words]) => `- ${percent(report.worstSeverity[s], matched)} of images (${count(report.worstSeverity[s])}) have ${words}.`);
    out.push(`Of the ${count(matched)} images matched against an advisory DB:\n\n${lines.join('\n')}\n`);
    if (report.notMatched > 0) out.push(`\n${count(report.notMatched)} images were judged without an advisory DB and are not counted here.\n`);
    out.push('\nMost common vulnerabilities:\n\n');
    out.push(table(['vulnerability', 'severity', 'images'], report.top.vulnerabilities.map((v) => [cellText(v.value), v.severity, count(v.images)])));
  }

  out.push('\n## Indicators\n');
  out.push('\nMining pools:\n\n' + rankedTable('pool', report.top.pools));
  out.push('\nWallets:\n\n' + rankedTable('wallet', report.top.wallets));
  out.push('\nDomains looked up or contacted during detonation:\n\n' + rankedTable('domain', report.top.domains));
  out.push('\nAttack tools:\n\n' + rankedTable('tool', report.top.attackTools));

  out.push('\n## Results by day\n\n');
  out.push(table(['day', 'images judged', 'malicious'], report.byDay.map((d) => [d.date, count(d.judged), count(d.malicious)])));

  out.push('\n## Not judged\n');
  out.push('\nFailed, by the stage that failed:\n\n' + rankedTable('stage', report.unfinished.failedByStage, 'references'));
  out.push('\nSkipped, by reason:\n\n' + rankedTable('reason', report.unfinished.skippedByReason, 'references'));
  return out.join('');
}

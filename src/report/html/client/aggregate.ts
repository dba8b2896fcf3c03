/**
 * `report --aggregate --format html`: "the state of the registry" drawn from the page's data (src/model/aggregate.ts),
 * with the HTML report's look: the headline figures as sentences, bar charts (SVG, drawn here) and the tables behind
 * them. Pools, wallets, domains, tools and reasons come from images: they are shown as text only.
 */
import { card, empty, h, s } from './dom.js';
import { arr, num, obj, str, type Rec } from './text.js';

const count = (v: unknown): string => (num(v) ?? 0).toLocaleString('en-US');
const pulls = (v: unknown): string => (num(v) === null ? 'unknown' : count(v));
const percent = (n: number, of: number): string => (of > 0 ? ((100 * n) / of).toFixed(1) + '%' : '0%');
const counted = (n: number, one: string, many: string): string => count(n) + ' ' + (n === 1 ? one : many);

interface Bar {
  label: string;
  value: number;
  cls?: string;
}

/** Horizontal bars, one per row, scaled to the largest. */
function barChart(title: string, name: string, bars: readonly Bar[], fmt: (v: number) => string = (v) => count(v)): HTMLElement {
  if (bars.length === 0) return empty('Nothing to chart.');
  const W = 660, left = 170, right = 120, row = 22, top = 6;
  const H = top + bars.length * row + 6;
  const max = bars.reduce((m, b) => Math.max(m, b.value), 0) || 1;
  const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title, 'data-chart': name });
  bars.forEach((b, i) => {
    const y = top + i * row;
    const width = ((W - left - right) * b.value) / max;
    svg.appendChild(s('text', { x: left - 6, y: y + 15, 'text-anchor': 'end' }, b.label.length > 26 ? b.label.slice(0, 25) + '…' : b.label));
    svg.appendChild(s('rect', { class: 'bar ' + (b.cls ?? ''), x: left, y: y + 3, width: Math.max(width, b.value > 0 ? 1 : 0), height: row - 6 }, s('title', null, b.label + ': ' + fmt(b.value))));
    svg.appendChild(s('text', { x: left + width + 6, y: y + 15 }, fmt(b.value)));
  });
  return h('figure', { class: 'chart' }, h('figcaption', { class: 'muted' }, title), svg);
}

function table(head: readonly string[], rows: readonly (readonly unknown[])[], name: string): HTMLElement {
  if (rows.length === 0) return empty('None.');
  return h('div', { class: 'scroll' }, h('table', { 'data-table': name },
    h('thead', null, h('tr', null, head.map((c, i) => h('th', i > 0 ? { class: 'num' } : null, c)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', i > 0 ? { class: 'num' } : null, str(c))))))));
}

const ranked = (list: unknown, label: string, name: string, unit = 'images'): HTMLElement =>
  table([label, unit], arr(list).map((r) => { const o = obj(r); return [o.value, count(o.images)]; }), name);

const SEVERITIES: ReadonlyArray<readonly [string, string]> = [
  ['critical', 'critical'], ['high', 'high'], ['moderate', 'moderate'], ['low', 'low'], ['unknown', 'unknown'], ['none', 'none known'],
];

/** Draws the aggregate page into `root`. */
export function renderAggregatePage(root: HTMLElement, figures: Rec): void {
  const images = obj(figures.images);
  const window = obj(figures.window);
  const unfinished = obj(figures.unfinished);
  const judged = num(images.judged) ?? 0;
  const notMatched = num(figures.notMatched) ?? 0;
  const matched = judged - notMatched;
  const worst = obj(figures.worstSeverity);
  const windows = obj(figures.windowsMalwareInLinux);
  const top = obj(figures.top);
  const day = (v: unknown) => str(v).slice(0, 10) || '?';
  document.title = 'Detonate: the state of the registry';

  root.appendChild(h('header', { class: 'top' }, h('h1', null, 'The state of the registry'), h('span', { class: 'meta' }, 'generated ' + str(figures.generatedAt))));
  const m = h('main');
  const summary = card('summary', 'Summary');
  summary.appendChild(h('p', { 'data-figure': 'judged' },
    'Detonate judged ' + counted(judged, 'image', 'images') + ' (' + counted(num(images.tags) ?? 0, 'tag', 'tags') + ' in ' +
    counted(num(images.repositories) ?? 0, 'repository', 'repositories') + ') between ' + day(window.from) + ' and ' + day(window.to) + '; ' +
    count(images.detonated) + ' of them also ran in a sandbox. ' + counted(num(unfinished.failed) ?? 0, 'more image', 'more images') +
    ' could not be judged (the scan failed) and ' + count(unfinished.skipped) + ' were skipped on purpose.'));
  summary.appendChild(h('p', { 'data-figure': 'malicious' },
    counted(num(images.malicious) ?? 0, 'image', 'images') + ' (' + percent(num(images.malicious) ?? 0, judged) + ') judged malicious; their repositories had ' +
    pulls(images.maliciousPulls) + ' pulls. ' + counted(num(windows.images) ?? 0, 'Linux image', 'Linux images') + ' carried Windows malware (' + pulls(windows.pulls) + ' pulls).'));
  m.appendChild(summary);

  const categories = arr(figures.categories).map(obj);
  const threats = card('threats', 'Threats by category', categories.length);
  threats.appendChild(barChart('Images per category', 'categories', categories.map((c) => ({ label: str(c.category), value: num(c.images) ?? 0, cls: 'cat' }))));
  threats.appendChild(table(['category', 'images', 'judged malicious', 'repositories', 'pulls'],
    categories.map((c) => [c.category, count(c.images), count(c.malicious), count(c.repositories), pulls(c.pulls)]), 'categories'));
  m.appendChild(threats);

  const vulns = card('vulnerabilities', 'Vulnerabilities');
  if (matched <= 0) {
    vulns.appendChild(empty('No image was matched against an advisory DB.'));
  } else {
    vulns.appendChild(h('p', null, 'Of the ' + count(matched) + ' images matched against an advisory DB, by the worst severity among their vulnerabilities:'));
    vulns.appendChild(barChart('Share of images by worst severity', 'severity',
      SEVERITIES.map(([key, label]) => ({ label, value: num(worst[key]) ?? 0, cls: 'sev-' + key })), (v) => percent(v, matched) + ' (' + count(v) + ')'));
    vulns.appendChild(h('h4', null, 'Most common vulnerabilities'));
    vulns.appendChild(table(['vulnerability', 'severity', 'images'], arr(top.vulnerabilities).map((r) => { const o = obj(r); return [o.value, o.severity, count(o.images)]; }), 'cves'));
  }
  m.appendChild(vulns);

  const indicators = card('indicators', 'Indicators');
  const lists = [['pools', 'Mining pools', 'pool'], ['wallets', 'Wallets', 'wallet'], ['domains', 'Domains looked up or contacted', 'domain'], ['attackTools', 'Attack tools', 'tool']] as const;
  for (const [key, title, label] of lists) {
    indicators.appendChild(h('h4', null, title));
    indicators.appendChild(ranked(top[key], label, key));
  }
  m.appendChild(indicators);

  const byDay = arr(figures.byDay).map(obj);
  const days = card('by-day', 'Results by day', byDay.length);
  days.appendChild(barChart('Images judged per day', 'by-day', byDay.map((d) => ({ label: str(d.date), value: num(d.judged) ?? 0 }))));
  days.appendChild(table(['day', 'images judged', 'malicious'], byDay.map((d) => [d.date, count(d.judged), count(d.malicious)]), 'by-day'));
  m.appendChild(days);

  const notJudged = card('not-judged', 'Not judged');
  notJudged.appendChild(h('h4', null, 'Failed, by the stage that failed'));
  notJudged.appendChild(ranked(unfinished.failedByStage, 'stage', 'failed', 'references'));
  notJudged.appendChild(h('h4', null, 'Skipped, by reason'));
  notJudged.appendChild(ranked(unfinished.skippedByReason, 'reason', 'skipped', 'references'));
  m.appendChild(notJudged);
  root.appendChild(m);
  root.appendChild(h('footer', null, 'Every pool, wallet, domain, tool and reason shown here comes from a scanned image and is shown as text.'));
}

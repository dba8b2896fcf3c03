/**
 * The HTML report's script (bundled into one IIFE that html.ts inlines, see ../client.ts): reads the reports from
 * the page's JSON data element and draws the page. Every string in a report may come from a hostile image; dom.ts
 * shows them as text only.
 */
import { renderAggregatePage } from './aggregate.js';
import { detonationSection } from './detonation.js';
import { empty, h } from './dom.js';
import {
  findingsSection, imageFacts, layersSection, noticesSection, packagesSection, suppressedSection, verdictBanner, vulnerabilitiesSection,
} from './sections.js';
import { isObj, obj, str, visible, type Rec } from './text.js';

type Section = (report: Rec, id: string) => HTMLElement;

/** The sections of one image, in page order: id suffix, title, and what draws it. */
const SECTIONS: readonly (readonly [string, string, Section])[] = [
  ['verdict', 'Verdict', verdictBanner], ['image', 'Image', imageFacts], ['findings', 'Findings', findingsSection],
  ['vulnerabilities', 'Vulnerabilities', vulnerabilitiesSection], ['detonation', 'Detonation', detonationSection],
  ['layers', 'Layers', layersSection], ['packages', 'Packages', packagesSection], ['notices', 'Notices', noticesSection],
  ['suppressed', 'Suppressed', suppressedSection],
];

const isMalicious = (r: Rec): boolean => isObj(r.verdict) && r.verdict.malicious === true;

function renderReport(report: Rec, i: number): HTMLElement {
  const img = obj(report.image);
  const p = 'r' + i + '-';
  const section = h('section', { class: 'image', id: 'r' + i, 'data-image': String(i) },
    h('h2', null, img.reference || img.digest || 'image ' + (i + 1)),
    h('nav', { class: 'toc' }, SECTIONS.map(([key, title]) => h('a', { href: '#' + p + key }, title))));
  for (const [key, title, draw] of SECTIONS) {
    try {
      section.appendChild(draw(report, p + key));
    } catch (err) {
      // one malformed part of a report must not hide the rest
      section.appendChild(h('section', { class: 'card', id: p + key }, h('h3', null, title),
        h('p', { class: 'error' }, 'This part of the report could not be shown: ' + str(err instanceof Error ? err.message : undefined))));
    }
  }
  return section;
}

function readData(): unknown {
  const data = document.getElementById('detonate-data');
  try {
    return JSON.parse(data?.textContent ?? '[]');
  } catch {
    return [];
  }
}

function main(): void {
  const data = readData();
  const root = document.getElementById('app');
  if (!root) return;
  // `report --aggregate --format html` writes `{ aggregate: figures }`; a scan's reports are a list
  if (isObj(data) && isObj(data.aggregate)) {
    renderAggregatePage(root, data.aggregate);
    document.documentElement.setAttribute('data-ready', 'true');
    return;
  }
  const reports = (Array.isArray(data) ? data : [data]).filter(isObj);
  const tool = obj(reports[0]?.tool);
  const malicious = reports.filter(isMalicious).length;
  root.appendChild(h('header', { class: 'top' }, h('h1', null, 'Detonate report'),
    h('span', { class: 'meta' }, reports.length + (reports.length === 1 ? ' image' : ' images') + (reports.length > 1 ? ', ' + malicious + ' malicious' : '')),
    tool.version ? h('span', { class: 'meta' }, 'detonate ' + str(tool.version)) : null));
  if (reports.length > 1) {
    root.appendChild(h('nav', { class: 'images' }, reports.map((r, i) => {
      const img = obj(r.image);
      return h('a', { href: '#r' + i }, (isMalicious(r) ? '\u26a0 ' : '') + str(img.reference || 'image ' + (i + 1)));
    })));
  }
  const m = h('main');
  if (reports.length === 0) m.appendChild(empty('No images in this report.'));
  reports.forEach((r, i) => m.appendChild(renderReport(r, i)));
  root.appendChild(m);
  root.appendChild(h('footer', null, 'Every name, path, argument and byte shown here comes from the scanned image and is shown as text. ' +
    'Invisible and control characters are shown as escapes (\\x1b, \\u202e).'));
  const only = reports.length === 1 ? reports[0] : undefined;
  if (only && isObj(only.image)) document.title = 'Detonate: ' + visible(only.image.reference);
  document.documentElement.setAttribute('data-ready', 'true');
}

main();
